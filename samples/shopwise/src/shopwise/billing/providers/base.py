"""The interface every payment provider plugin implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class PaymentResult:
    ok: bool
    reference: str | None = None
    message: str = ""


class PaymentProvider(Protocol):
    name: str

    def charge(self, *, amount_cents: int, currency: str, token: str, description: str) -> PaymentResult: ...

    def refund(self, reference: str) -> PaymentResult: ...
