"""Operational knobs for the back office."""

from __future__ import annotations

import logging

from shopwise.ai.text import writer as description_writer
from shopwise.core.cache import cache
from shopwise.core.config import settings

logger = logging.getLogger(__name__)


def clear_ai_caches() -> dict[str, int]:
    """Forget generated descriptions and cached search results/query vectors."""
    descriptions = len(description_writer._cache)
    description_writer._cache = {}
    entries = cache.clear()
    logger.info("cleared %d cached descriptions and %d cache entries", descriptions, entries)
    return {"descriptions": descriptions, "cache_entries": entries}


def set_feature_flag(name: str, enabled: bool) -> dict[str, bool]:
    if name not in settings.FEATURE_FLAGS:
        raise KeyError(name)
    settings.FEATURE_FLAGS[name] = enabled
    if name == "semantic_search":
        cache.delete_prefix("search:")
    return dict(settings.FEATURE_FLAGS)


def rebuild_embeddings() -> int:
    # Pulls in numpy and the embeddings code only when an admin asks for it.
    from shopwise.ai.embeddings import jobs

    return jobs.reindex_all()
