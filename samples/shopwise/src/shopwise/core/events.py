"""Minimal in-process signals so packages can react to each other's events.

Receivers register with ``signal.connect(func)`` at import time; senders call
``signal.send(**payload)``. Nothing here knows who listens.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

Receiver = Callable[..., Any]


class Signal:
    def __init__(self, name: str) -> None:
        self.name = name
        self._receivers: list[Receiver] = []

    def connect(self, receiver: Receiver) -> Receiver:
        if receiver not in self._receivers:
            self._receivers.append(receiver)
        return receiver

    def disconnect(self, receiver: Receiver) -> None:
        if receiver in self._receivers:
            self._receivers.remove(receiver)

    def send(self, **payload: Any) -> list[Any]:
        results = []
        for receiver in list(self._receivers):
            try:
                results.append(receiver(**payload))
            except Exception:  # a broken receiver must not break the sender
                logger.exception("receiver %r of signal %s failed", receiver, self.name)
        return results

    def __repr__(self) -> str:
        return f"<Signal {self.name} receivers={len(self._receivers)}>"


product_updated = Signal("product_updated")
order_paid = Signal("order_paid")
