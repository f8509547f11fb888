"""Product image generation: prompt building and backend choice."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from shopwise.ai.images import dalle, stability, storage
from shopwise.core.config import settings
from shopwise.db.models import Product

logger = logging.getLogger(__name__)


class ProductImageError(RuntimeError):
    pass


def build_prompt(product: Product, style: str) -> str:
    colour = (product.attributes or {}).get("colour") or (product.attributes or {}).get("color")
    subject = f"{colour} {product.name}" if colour else product.name
    return (
        f"Product photograph of {subject} ({product.category}). {style}. "
        "Single item, centred, soft even lighting, no people, no text, no logos."
    )


def generate_product_image(
    session: Session, product_id: int, *, style: str, backend: str | None = None
) -> str:
    """Generate an image for a product, store it and set ``product.image_url``."""
    product = session.get(Product, product_id)
    if product is None:
        raise ProductImageError(f"unknown product {product_id}")
    backend = backend or settings.IMAGE_BACKEND
    prompt = build_prompt(product, style)
    try:
        if backend == "stability":
            data = stability.generate(prompt)
        else:
            data = dalle.generate(prompt)
    except (stability.StabilityError, dalle.ImageGenerationError) as exc:
        raise ProductImageError(str(exc)) from exc
    url = storage.save_image(product.id, data)
    product.image_url = url
    session.flush()
    logger.info("generated image for product %s with %s", product.id, backend)
    return url
