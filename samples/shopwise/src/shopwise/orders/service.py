"""Placing and managing orders."""

from __future__ import annotations

import logging
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopwise.billing import invoices
from shopwise.core.config import settings
from shopwise.core.events import order_paid
from shopwise.db.models import Order, OrderLine, OrderStatus, Product, User
from shopwise.orders.schemas import OrderCreate, OrderSummary

logger = logging.getLogger(__name__)


class OrderError(ValueError):
    pass


class OrderNotFound(LookupError):
    pass


def place_order(session: Session, user: User, data: OrderCreate) -> Order:
    """Reserve stock, create the order and issue its invoice in one transaction."""
    lines: list[OrderLine] = []
    total = Decimal("0")
    for item in data.lines:
        product = session.get(Product, item.product_id, with_for_update=True)
        if product is None:
            raise OrderError(f"unknown product {item.product_id}")
        if product.stock < item.quantity:
            raise OrderError(f"only {product.stock} of {product.sku} left")
        product.stock -= item.quantity
        lines.append(OrderLine(product_id=product.id, quantity=item.quantity, unit_price=product.price))
        total += product.price * item.quantity

    order = Order(user_id=user.id, status=OrderStatus.PENDING.value, total=total, currency=settings.CURRENCY)
    order.lines = lines
    session.add(order)
    session.flush()
    invoices.issue_invoice(session, order)
    logger.info("order %s placed by user %s, total %s", order.id, user.id, total)
    return order


def get_order(session: Session, order_id: int) -> Order:
    order = session.get(Order, order_id)
    if order is None:
        raise OrderNotFound(order_id)
    return order


def list_orders_for_user(session: Session, user_id: int, limit: int = 20) -> list[Order]:
    stmt = select(Order).where(Order.user_id == user_id).order_by(Order.created_at.desc()).limit(limit)
    return list(session.scalars(stmt))


def summarise(order: Order) -> OrderSummary:
    return OrderSummary(
        id=order.id, status=order.status, total=order.total, item_count=sum(line.quantity for line in order.lines)
    )


def cancel_order(session: Session, order: Order) -> Order:
    if order.status not in (OrderStatus.PENDING.value, OrderStatus.PAID.value):
        raise OrderError(f"cannot cancel an order that is {order.status}")
    for line in order.lines:
        product = session.get(Product, line.product_id)
        if product is not None:
            product.stock += line.quantity
    order.status = OrderStatus.CANCELLED.value
    session.flush()
    return order


def mark_paid(session: Session, order_id: int) -> None:
    order = get_order(session, order_id)
    if order.status == OrderStatus.PENDING.value:
        order.status = OrderStatus.PAID.value
        session.flush()


def _on_order_paid(order_id: int, session: Session, **_: object) -> None:
    mark_paid(session, order_id)


order_paid.connect(_on_order_paid)
