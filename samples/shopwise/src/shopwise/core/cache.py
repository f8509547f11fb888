"""A tiny in-process TTL cache shared by the whole application."""

from __future__ import annotations

import threading
import time
from typing import Any

from shopwise.core.config import settings


class SimpleTTLCache:
    """Dictionary with per-key expiry and a crude size bound.

    Good enough for a single worker. With several workers every process has
    its own copy, which nobody has complained about yet.
    """

    def __init__(self, max_items: int = 1024) -> None:
        self._data: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()
        self.max_items = max_items

    def get(self, key: str, default: Any = None) -> Any:
        with self._lock:
            entry = self._data.get(key)
            if entry is None:
                return default
            expires_at, value = entry
            if expires_at and expires_at < time.monotonic():
                del self._data[key]
                return default
            return value

    def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        with self._lock:
            if len(self._data) >= self.max_items:
                # Drop the oldest insertion; dicts keep insertion order.
                self._data.pop(next(iter(self._data)))
            expires_at = time.monotonic() + ttl if ttl else 0.0
            self._data[key] = (expires_at, value)

    def delete_prefix(self, prefix: str) -> int:
        with self._lock:
            doomed = [key for key in self._data if key.startswith(prefix)]
            for key in doomed:
                del self._data[key]
            return len(doomed)

    def clear(self) -> int:
        with self._lock:
            count = len(self._data)
            self._data.clear()
            return count

    def __len__(self) -> int:
        return len(self._data)


cache = SimpleTTLCache(max_items=settings.CACHE_MAX_ITEMS)
