"""Image generation through a Stability-style REST API (raw HTTP, no SDK)."""

from __future__ import annotations

import base64
import logging
import os

import requests

from shopwise.core.config import settings

logger = logging.getLogger(__name__)

STABILITY_API_KEY = os.getenv("STABILITY_API_KEY", settings.STABILITY_API_KEY)


class StabilityError(RuntimeError):
    pass


def _dimensions(size: str) -> tuple[int, int]:
    width, _, height = size.partition("x")
    return int(width), int(height or width)


def generate(
    prompt: str,
    *,
    engine: str | None = None,
    size: str | None = None,
    steps: int = 30,
    cfg_scale: float = 7.0,
    negative_prompt: str = "text, watermark, blurry, deformed",
) -> bytes:
    """Return PNG bytes for ``prompt`` using the text-to-image endpoint."""
    engine = engine or settings.STABILITY_ENGINE
    width, height = _dimensions(size or settings.IMAGE_SIZE)
    url = f"{settings.STABILITY_API_BASE}/v1/generation/{engine}/text-to-image"
    payload = {
        "text_prompts": [{"text": prompt, "weight": 1.0}, {"text": negative_prompt, "weight": -1.0}],
        "cfg_scale": cfg_scale,
        "width": width,
        "height": height,
        "steps": steps,
        "samples": 1,
    }
    response = requests.post(
        url,
        headers={
            "Authorization": f"Bearer {STABILITY_API_KEY}",
            "Accept": "application/json",
            "Content-Type": "application/json",
        },
        json=payload,
        timeout=settings.STABILITY_TIMEOUT,
    )
    if response.status_code != 200:
        raise StabilityError(f"{response.status_code}: {response.text[:200]}")
    artifacts = response.json().get("artifacts", [])
    usable = [a for a in artifacts if a.get("finishReason") == "SUCCESS"]
    if not usable:
        raise StabilityError("no usable artifact (content filter?)")
    return base64.b64decode(usable[0]["base64"])
