"""Product search: semantic (embeddings) first, SQL keyword match as fallback."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from shopwise.ai.embeddings import embedder, index
from shopwise.catalogue import repository
from shopwise.catalogue.schemas import ProductOut, SearchHit
from shopwise.core.cache import cache
from shopwise.core.config import settings

logger = logging.getLogger(__name__)


def _semantic(session: Session, query: str, limit: int) -> list[SearchHit]:
    vector = embedder.embed_query(query)
    hits: list[SearchHit] = []
    for product_id, score in index.most_similar(session, vector, top_k=limit):
        if score < settings.SEARCH_MIN_SCORE:
            continue
        product = repository.get(session, product_id)
        if product is None:  # embedding left behind by a deleted product
            continue
        hits.append(SearchHit(product=ProductOut.model_validate(product), score=round(score, 4)))
    return hits


def search_products(session: Session, query: str, limit: int = 10) -> list[SearchHit]:
    query = query.strip()
    if not query:
        return []
    key = f"search:{query.lower()}:{limit}"
    cached = cache.get(key)
    if cached is not None:
        return cached

    hits: list[SearchHit] = []
    if settings.FEATURE_FLAGS.get("semantic_search", True):
        try:
            hits = _semantic(session, query, limit)
        except embedder.EmbeddingError:
            logger.warning("semantic search unavailable, falling back to keywords")
    if not hits:
        hits = [
            SearchHit(product=product, score=0.0, matched_by="keyword")
            for product in repository.keyword_search(session, query, limit)
        ]
    cache.set(key, hits, ttl=settings.SEARCH_CACHE_TTL)
    return hits


def related_products(session: Session, product_id: int, limit: int = 4) -> list[ProductOut]:
    """Customers-also-viewed: nearest neighbours of the product's vector."""
    return index.similar_products(session, product_id, top_k=limit)
