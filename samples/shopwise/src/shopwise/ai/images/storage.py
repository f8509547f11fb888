"""Where generated product images are written and how they are addressed."""

from __future__ import annotations

import hashlib
from pathlib import Path

from shopwise.core.config import settings


def _media_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "products"
    path.mkdir(parents=True, exist_ok=True)
    return path


def save_image(product_id: int, data: bytes, *, suffix: str = ".png") -> str:
    """Write ``data`` under MEDIA_ROOT and return its public URL."""
    digest = hashlib.sha256(data).hexdigest()[:12]
    filename = f"{product_id}-{digest}{suffix}"
    (_media_dir() / filename).write_bytes(data)
    return f"{settings.MEDIA_URL}/products/{filename}"


def delete_images(product_id: int) -> int:
    removed = 0
    for path in _media_dir().glob(f"{product_id}-*"):
        path.unlink(missing_ok=True)
        removed += 1
    return removed
