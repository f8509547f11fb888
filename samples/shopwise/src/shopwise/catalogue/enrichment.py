"""SEO helpers for product pages: keyword suggestions and image alt text.

Written during a marketing sprint; talks to the model directly instead of
going through the description writer.
"""

from __future__ import annotations

import json
import logging

from shopwise.ai.client import client
from shopwise.db.models import Product

logger = logging.getLogger(__name__)

_SEO_INSTRUCTIONS = (
    "You are an e-commerce SEO assistant. Given a product, answer with a JSON "
    'object {"keywords": [up to 8 lowercase search phrases], "alt_text": "one '
    'sentence describing the product photo"}. No other text.'
)


def _product_facts(product: Product) -> str:
    attrs = ", ".join(f"{k}: {v}" for k, v in sorted((product.attributes or {}).items()))
    return f"Name: {product.name}\nCategory: {product.category}\nAttributes: {attrs}\n{product.description}"


def suggest_seo(product: Product) -> tuple[list[str], str]:
    """Return (keywords, alt_text) for a product page."""
    response = client.chat.completions.create(
        model="gpt-3.5-turbo",
        messages=[
            {"role": "system", "content": _SEO_INSTRUCTIONS},
            {"role": "user", "content": _product_facts(product)},
        ],
        temperature=0.3,
        response_format={"type": "json_object"},
    )
    raw = response.choices[0].message.content or "{}"
    try:
        payload = json.loads(raw)
    except json.JSONDecodeError:
        logger.warning("SEO model returned non-JSON for product %s", product.id)
        return [], product.name
    keywords = [str(k).lower() for k in payload.get("keywords", [])][:8]
    alt_text = str(payload.get("alt_text") or product.name)
    return keywords, alt_text
