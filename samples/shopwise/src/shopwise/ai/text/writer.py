"""Product description writer (chat completions)."""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING

from openai import OpenAIError

from shopwise.ai.client import client
from shopwise.ai.text._prompts import description_messages
from shopwise.catalogue import service as catalogue_service
from shopwise.core.config import settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from shopwise.db.models import Product

logger = logging.getLogger(__name__)

# Generated texts by prompt fingerprint. Cleared from the admin API.
_cache: dict[str, str] = {}


class DescriptionError(RuntimeError):
    pass


def _fingerprint(product: Product, tone: str, language: str, max_words: int) -> str:
    parts = [settings.DESCRIPTION_MODEL, product.name, product.category, str(product.price), tone, language]
    parts += [f"{k}={v}" for k, v in sorted((product.attributes or {}).items())]
    parts.append(str(max_words))
    return hashlib.sha1("|".join(parts).encode()).hexdigest()


def write_description(
    product: Product, *, tone: str = "friendly", language: str = "en", max_words: int = 120
) -> str:
    """Ask the model for a description of ``product`` and return the text."""
    key = _fingerprint(product, tone, language, max_words)
    if key in _cache:
        return _cache[key]
    try:
        response = client.chat.completions.create(
            model=settings.DESCRIPTION_MODEL,
            messages=description_messages(product, tone=tone, language=language, max_words=max_words),
            temperature=0.7,
            max_tokens=max_words * 2,
        )
    except OpenAIError as exc:
        raise DescriptionError(str(exc)) from exc
    text = (response.choices[0].message.content or "").strip()
    if not text:
        raise DescriptionError("empty completion")
    if response.usage is not None:
        logger.info("description for %s used %d tokens", product.sku, response.usage.total_tokens)
    _cache[key] = text
    return text


def write_description_for(session: Session, product_id: int, **options: object) -> str:
    """Convenience wrapper for scripts that only have an id."""
    product = catalogue_service.get_product(session, product_id)
    return write_description(product, **options)  # type: ignore[arg-type]
