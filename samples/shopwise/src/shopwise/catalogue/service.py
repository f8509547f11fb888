"""Catalogue business logic: create/update products and their AI content."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from shopwise.ai.embeddings import index as embedding_index
from shopwise.ai.text import writer
from shopwise.catalogue import repository
from shopwise.catalogue.schemas import ProductIn, ProductOut, ProductUpdate
from shopwise.core.config import settings
from shopwise.core.events import product_updated
from shopwise.db.models import Product

logger = logging.getLogger(__name__)


class ProductNotFound(LookupError):
    pass


class DuplicateSku(ValueError):
    pass


def get_product(session: Session, product_id: int) -> Product:
    product = repository.get(session, product_id)
    if product is None:
        raise ProductNotFound(product_id)
    return product


def create_product(session: Session, data: ProductIn) -> ProductOut:
    if repository.get_by_sku(session, data.sku) is not None:
        raise DuplicateSku(data.sku)
    product = Product(**data.model_dump())
    if not product.description and settings.FEATURE_FLAGS.get("ai_descriptions"):
        try:
            product.description = writer.write_description(product)
        except writer.DescriptionError:
            logger.warning("could not generate a description for %s", data.sku)
    repository.add(session, product)
    product_updated.send(product_id=product.id, session=session)
    return ProductOut.model_validate(product)


def update_product(session: Session, product_id: int, data: ProductUpdate) -> ProductOut:
    product = get_product(session, product_id)
    changes = data.model_dump(exclude_unset=True)
    for field, value in changes.items():
        setattr(product, field, value)
    session.flush()
    if {"name", "description", "category", "attributes"} & changes.keys():
        # The vector index keeps a matrix in memory; drop it so the next search reloads.
        setattr(embedding_index, "_matrix", None)
        product_updated.send(product_id=product.id, session=session)
    return ProductOut.model_validate(product)


def delete_product(session: Session, product_id: int) -> None:
    product = get_product(session, product_id)
    repository.delete(session, product)
    embedding_index.invalidate()


def describe_product(
    session: Session,
    product_id: int,
    *,
    tone: str = "friendly",
    language: str = "en",
    max_words: int = 120,
    save: bool = True,
) -> str:
    product = get_product(session, product_id)
    text = writer.write_description(product, tone=tone, language=language, max_words=max_words)
    if save:
        product.description = text
        session.flush()
        product_updated.send(product_id=product.id, session=session)
    return text


def describe_missing(session: Session, limit: int = 50) -> int:
    """Fill in descriptions for products that have none. Returns how many."""
    done = 0
    for product in repository.without_description(session, limit=limit):
        try:
            product.description = writer.write_description(product)
        except writer.DescriptionError:
            logger.exception("description failed for product %s", product.id)
            continue
        done += 1
    session.flush()
    return done
