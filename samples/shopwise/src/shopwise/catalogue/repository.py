"""Data access for products."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete as sql_delete
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from shopwise.catalogue.schemas import ProductOut
from shopwise.db.models import Product, ProductEmbedding

_KEYWORD_SQL = text(
    "SELECT id, sku, name, description, price, stock, category, image_url "
    "FROM products "
    "WHERE lower(name) LIKE :pattern OR lower(description) LIKE :pattern "
    "ORDER BY stock DESC LIMIT :limit"
)


def _row_to_product(row: Any) -> ProductOut:
    """Turn an ORM ``Product`` or a raw result row into the API schema."""
    if isinstance(row, Product):
        return ProductOut.model_validate(row)
    mapping = dict(row._mapping) if hasattr(row, "_mapping") else dict(row)
    mapping.setdefault("description", "")
    return ProductOut(**mapping)


def get(session: Session, product_id: int) -> Product | None:
    return session.get(Product, product_id)


def get_by_sku(session: Session, sku: str) -> Product | None:
    return session.scalars(select(Product).where(Product.sku == sku)).first()


def list_products(
    session: Session, *, category: str | None = None, offset: int = 0, limit: int = 50
) -> Sequence[Product]:
    stmt = select(Product).order_by(Product.name).offset(offset).limit(limit)
    if category:
        stmt = stmt.where(Product.category == category)
    return session.scalars(stmt).all()


def without_description(session: Session, limit: int = 100) -> Sequence[Product]:
    stmt = select(Product).where(func.length(Product.description) == 0).limit(limit)
    return session.scalars(stmt).all()


def keyword_search(session: Session, query: str, limit: int = 10) -> list[ProductOut]:
    pattern = f"%{query.strip().lower()}%"
    rows = session.execute(_KEYWORD_SQL, {"pattern": pattern, "limit": limit})
    return [_row_to_product(row) for row in rows]


def add(session: Session, product: Product) -> Product:
    session.add(product)
    session.flush()
    return product


def delete(session: Session, product: Product) -> None:
    # The embedding row references the product; remove it first (no ON DELETE CASCADE).
    session.execute(sql_delete(ProductEmbedding).where(ProductEmbedding.product_id == product.id))
    session.delete(product)
    session.flush()
