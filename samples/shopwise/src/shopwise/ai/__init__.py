"""AI helpers: text generation, product images and semantic search."""
