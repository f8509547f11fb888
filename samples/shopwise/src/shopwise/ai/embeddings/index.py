"""In-memory vector index over the ``product_embeddings`` table.

Vectors are stored as float32 bytes in the database and loaded into one
numpy matrix on first use; similarity is a plain dot product (cosine, since
vectors are normalised when they are created).
"""

from __future__ import annotations

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

try:
    from numpy.typing import NDArray
except ImportError:  # numpy older than 1.21
    NDArray = np.ndarray  # type: ignore[misc,assignment]

from shopwise.catalogue.repository import _row_to_product
from shopwise.catalogue.schemas import ProductOut
from shopwise.core.config import settings
from shopwise.db.models import Product, ProductEmbedding

_matrix: NDArray[np.float32] | None = None
_ids: list[int] = []


def _load(session: Session) -> None:
    global _matrix, _ids
    rows = session.scalars(
        select(ProductEmbedding).where(ProductEmbedding.model == settings.EMBEDDING_MODEL)
    ).all()
    _ids = [row.product_id for row in rows]
    if rows:
        _matrix = np.vstack([np.frombuffer(row.vector, dtype=np.float32) for row in rows])
    else:
        _matrix = np.zeros((0, settings.EMBEDDING_DIM), dtype=np.float32)


def invalidate() -> None:
    global _matrix
    _matrix = None


def upsert(session: Session, product_id: int, vector: NDArray[np.float32]) -> None:
    row = session.get(ProductEmbedding, product_id)
    payload = np.asarray(vector, dtype=np.float32).tobytes()
    if row is None:
        row = ProductEmbedding(product_id=product_id, model=settings.EMBEDDING_MODEL, dim=len(vector), vector=payload)
        session.add(row)
    else:
        row.model, row.dim, row.vector = settings.EMBEDDING_MODEL, len(vector), payload
    session.flush()
    invalidate()


def most_similar(session: Session, vector: NDArray[np.float32], top_k: int = 10) -> list[tuple[int, float]]:
    """Return (product_id, cosine score) pairs, best first."""
    if _matrix is None:
        _load(session)
    assert _matrix is not None
    if _matrix.shape[0] == 0:
        return []
    query = np.asarray(vector, dtype=np.float32)
    query = query / max(float(np.linalg.norm(query)), 1e-12)
    scores = _matrix @ query
    k = min(top_k, scores.shape[0])
    best = np.argpartition(-scores, k - 1)[:k]
    best = best[np.argsort(-scores[best])]
    return [(_ids[i], float(scores[i])) for i in best]


def similar_products(session: Session, product_id: int, top_k: int = 5) -> list[ProductOut]:
    row = session.get(ProductEmbedding, product_id)
    if row is None:
        return []
    pairs = most_similar(session, np.frombuffer(row.vector, dtype=np.float32), top_k=top_k + 1)
    wanted = [pid for pid, _ in pairs if pid != product_id][:top_k]
    products = session.scalars(select(Product).where(Product.id.in_(wanted))).all()
    by_id = {p.id: p for p in products}
    return [_row_to_product(by_id[pid]) for pid in wanted if pid in by_id]
