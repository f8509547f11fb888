"""Payment capture.

The payment provider is a plugin module loaded by name at call time so that
the Stripe code (and its key) is only touched when somebody actually pays.
"""

from __future__ import annotations

import importlib
import logging
import os
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from shopwise.core.events import order_paid
from shopwise.db.models import Order, OrderStatus

if TYPE_CHECKING:
    from shopwise.billing.providers.base import PaymentProvider, PaymentResult

logger = logging.getLogger(__name__)

STRIPE_API_KEY = os.environ.get("STRIPE_API_KEY", "")


class PaymentError(RuntimeError):
    pass


def _load_provider() -> PaymentProvider:
    module = importlib.import_module("shopwise.billing.providers.stripe_provider")
    return module.StripeProvider(api_key=STRIPE_API_KEY)


def charge_order(session: Session, order: Order, payment_token: str) -> PaymentResult:
    if order.status != OrderStatus.PENDING.value:
        raise PaymentError(f"order {order.id} is {order.status}, not pending")
    if order.invoice is None:
        raise PaymentError(f"order {order.id} has no invoice")
    provider = _load_provider()
    amount_cents = int(order.total * 100)
    result = provider.charge(
        amount_cents=amount_cents,
        currency=order.currency,
        token=payment_token,
        description=f"Shopwise order {order.id} / invoice {order.invoice.number}",
    )
    if not result.ok:
        logger.warning("payment for order %s declined: %s", order.id, result.message)
        return result
    order.invoice.paid_at = datetime.now(timezone.utc)
    order.invoice.payment_reference = result.reference
    session.flush()
    order_paid.send(order_id=order.id, session=session)
    return result


def refund_order(session: Session, order: Order) -> PaymentResult:
    if order.invoice is None or order.invoice.payment_reference is None:
        raise PaymentError(f"order {order.id} was never paid")
    provider = _load_provider()
    return provider.refund(order.invoice.payment_reference)
