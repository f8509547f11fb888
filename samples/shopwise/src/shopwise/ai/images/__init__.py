"""Product image generation (OpenAI Images or a Stability-style REST API)."""
