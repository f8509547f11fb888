"""Product embeddings and the in-memory vector index used by catalogue search."""
