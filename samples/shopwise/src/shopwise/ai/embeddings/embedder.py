"""Turning text into vectors with the OpenAI embeddings endpoint."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
from openai import OpenAIError

from shopwise.ai.client import client
from shopwise.core.cache import cache
from shopwise.core.config import settings


class EmbeddingError(RuntimeError):
    pass


def product_text(product: Any) -> str:
    """The text we embed for a product: name, category, attributes, description."""
    attrs = "; ".join(f"{k} {v}" for k, v in sorted((product.attributes or {}).items()))
    return f"{product.name}. {product.category}. {attrs}. {product.description}"[:8000]


def embed_texts(texts: list[str]) -> np.ndarray:
    """Return a (len(texts), dim) float32 matrix of L2-normalised vectors."""
    if not texts:
        return np.zeros((0, settings.EMBEDDING_DIM), dtype=np.float32)
    try:
        response = client.embeddings.create(model=settings.EMBEDDING_MODEL, input=texts)
    except OpenAIError as exc:
        raise EmbeddingError(str(exc)) from exc
    ordered = sorted(response.data, key=lambda item: item.index)
    matrix = np.asarray([item.embedding for item in ordered], dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.clip(norms, 1e-12, None)


def embed_query(query: str) -> np.ndarray:
    """Embed a search query, memoised in the shared cache for an hour."""
    key = "emb:" + hashlib.md5(query.lower().encode()).hexdigest()
    vector = cache.get(key)
    if vector is None:
        vector = embed_texts([query])[0]
        cache.set(key, vector, ttl=3600)
    return vector
