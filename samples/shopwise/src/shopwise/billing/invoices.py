"""Invoice numbering, creation and plain-text rendering."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shopwise.core.config import settings
from shopwise.db.models import Invoice, Order
from shopwise.users.service import _format_address

_CENT = Decimal("0.01")


class InvoiceNotFound(LookupError):
    pass


def next_invoice_number(session: Session) -> str:
    year = datetime.now(timezone.utc).year
    prefix = f"{settings.INVOICE_PREFIX}-{year}-"
    count = session.scalar(select(func.count(Invoice.id)).where(Invoice.number.like(f"{prefix}%"))) or 0
    return f"{prefix}{count + 1:06d}"


def split_vat(gross: Decimal) -> tuple[Decimal, Decimal]:
    """Prices are VAT inclusive; return (net, vat)."""
    rate = Decimal(str(settings.VAT_RATE))
    net = (gross / (1 + rate)).quantize(_CENT, rounding=ROUND_HALF_UP)
    return net, gross - net


def issue_invoice(session: Session, order: Order) -> Invoice:
    net, vat = split_vat(order.total)
    invoice = Invoice(order_id=order.id, number=next_invoice_number(session), net_amount=net, vat_amount=vat)
    session.add(invoice)
    session.flush()
    return invoice


def invoice_for_order(session: Session, order_id: int) -> Invoice:
    # Imported here because orders.service imports this module at the top.
    from shopwise.orders import service as order_service

    order = order_service.get_order(session, order_id)
    if order.invoice is None:
        raise InvoiceNotFound(order_id)
    return order.invoice


def render_text(invoice: Invoice) -> str:
    order = invoice.order
    lines = [
        f"INVOICE {invoice.number}",
        f"Date: {invoice.issued_at:%Y-%m-%d}" if invoice.issued_at else "Date: -",
        "",
        order.user.full_name or order.user.email,
        _format_address(order.user.address),
        "",
    ]
    for line in order.lines:
        amount = line.unit_price * line.quantity
        lines.append(f"{line.quantity:>3} x {line.product.name:<40} {amount:>10} {order.currency}")
    lines += [
        "",
        f"{'Net':>48} {invoice.net_amount:>10}",
        f"{'VAT':>48} {invoice.vat_amount:>10}",
        f"{'Total':>48} {order.total:>10} {order.currency}",
    ]
    if invoice.paid_at:
        lines.append(f"Paid on {invoice.paid_at:%Y-%m-%d}, reference {invoice.payment_reference}")
    return "\n".join(lines)
