"""Keeping product embeddings up to date.

Importing this module connects a receiver to ``product_updated``; app.py
imports it for that side effect.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopwise.ai.embeddings import embedder, index
from shopwise.core.events import product_updated
from shopwise.db.models import Product
from shopwise.db.session import session_scope

logger = logging.getLogger(__name__)


def reindex_all(batch_size: int = 64) -> int:
    """Re-embed every product. Returns the number of products embedded."""
    done = 0
    with session_scope() as session:
        products = session.scalars(select(Product).order_by(Product.id)).all()
        for start in range(0, len(products), batch_size):
            batch = products[start : start + batch_size]
            vectors = embedder.embed_texts([embedder.product_text(p) for p in batch])
            for product, vector in zip(batch, vectors):
                index.upsert(session, product.id, vector)
            done += len(batch)
            logger.info("embedded %d/%d products", done, len(products))
    return done


def _reembed_product(product_id: int, session: Session | None = None, **_: object) -> None:
    """Receiver for ``product_updated``: refresh one product's vector."""
    if session is None:
        with session_scope() as own_session:
            _reembed_product(product_id, own_session)
        return
    product = session.get(Product, product_id)
    if product is None:
        return
    try:
        vector = embedder.embed_texts([embedder.product_text(product)])[0]
    except embedder.EmbeddingError:
        logger.warning("could not re-embed product %s; search may be stale", product_id)
        return
    index.upsert(session, product_id, vector)


product_updated.connect(_reembed_product)
