"""Stripe payment provider (PaymentIntents API over plain HTTPS)."""

from __future__ import annotations

import logging
import os

import requests

from shopwise.billing.providers.base import PaymentResult
from shopwise.core.config import settings

logger = logging.getLogger(__name__)


class StripeProvider:
    name = "stripe"

    def __init__(self, api_key: str | None = None, timeout: float = 20.0) -> None:
        self.api_key = api_key or os.getenv("STRIPE_API_KEY", "")
        self.timeout = timeout
        self.base = settings.STRIPE_API_BASE

    def _post(self, path: str, data: dict[str, object]) -> requests.Response:
        return requests.post(
            f"{self.base}/v1/{path}",
            data=data,
            auth=(self.api_key, ""),
            timeout=self.timeout,
        )

    def charge(self, *, amount_cents: int, currency: str, token: str, description: str) -> PaymentResult:
        response = self._post(
            "payment_intents",
            {
                "amount": amount_cents,
                "currency": currency.lower(),
                "payment_method": token,
                "description": description,
                "confirm": "true",
            },
        )
        body = response.json()
        if response.status_code >= 400:
            return PaymentResult(ok=False, message=body.get("error", {}).get("message", "declined"))
        return PaymentResult(ok=body.get("status") == "succeeded", reference=body.get("id"))

    def refund(self, reference: str) -> PaymentResult:
        response = self._post("refunds", {"payment_intent": reference})
        body = response.json()
        if response.status_code >= 400:
            logger.error("refund of %s failed: %s", reference, body)
            return PaymentResult(ok=False, message="refund failed")
        return PaymentResult(ok=True, reference=body.get("id"))
