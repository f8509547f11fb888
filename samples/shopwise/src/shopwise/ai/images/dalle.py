"""Image generation through the OpenAI Images API (DALL-E 3)."""

from __future__ import annotations

import base64
import logging

from openai import OpenAIError

from shopwise.ai.client import client
from shopwise.core.config import settings

logger = logging.getLogger(__name__)


class ImageGenerationError(RuntimeError):
    pass


def generate(prompt: str, *, size: str | None = None, quality: str = "standard") -> bytes:
    """Return PNG bytes for ``prompt``."""
    try:
        response = client.images.generate(
            model=settings.IMAGE_MODEL,
            prompt=prompt[:4000],
            size=size or settings.IMAGE_SIZE,  # type: ignore[arg-type]
            quality=quality,  # type: ignore[arg-type]
            n=1,
            response_format="b64_json",
        )
    except OpenAIError as exc:
        raise ImageGenerationError(str(exc)) from exc
    image = response.data[0] if response.data else None
    if image is None or not image.b64_json:
        raise ImageGenerationError("no image in response")
    if image.revised_prompt:
        logger.debug("DALL-E revised prompt: %s", image.revised_prompt)
    return base64.b64decode(image.b64_json)
