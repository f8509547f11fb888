"""LLM text features: product description writer and the support assistant."""
