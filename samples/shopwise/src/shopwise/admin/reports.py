"""Sales reports for the back office, written straight in SQL."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.orm import Session

SALES_BY_DAY_SQL = """
SELECT date(o.created_at) AS day,
       count(*)           AS orders,
       sum(o.total)       AS revenue
FROM orders AS o
WHERE o.status IN ('paid', 'shipped')
  AND o.created_at >= :since
GROUP BY date(o.created_at)
ORDER BY day
"""

TOP_CUSTOMERS_SQL = """
SELECT u.id, u.email, count(o.id) AS orders, sum(o.total) AS spent
FROM orders AS o
JOIN users AS u ON u.id = o.user_id
WHERE o.status IN ('paid', 'shipped')
GROUP BY u.id, u.email
ORDER BY spent DESC
LIMIT :limit
"""

OUTSTANDING_INVOICES_SQL = """
SELECT i.number, i.issued_at, i.net_amount + i.vat_amount AS gross, o.id AS order_id
FROM invoices AS i
JOIN orders AS o ON o.id = i.order_id
WHERE i.paid_at IS NULL AND o.status <> 'cancelled'
ORDER BY i.issued_at
"""


class DailySales(BaseModel):
    day: str
    orders: int
    revenue: Decimal


class OutstandingInvoice(BaseModel):
    number: str
    issued_at: str
    gross: Decimal
    order_id: int


class TopCustomer(BaseModel):
    user_id: int
    email: str
    orders: int
    spent: Decimal


def sales_by_day(session: Session, days: int = 30) -> list[DailySales]:
    since = date.today() - timedelta(days=days)
    rows = session.execute(text(SALES_BY_DAY_SQL), {"since": since.isoformat()})
    return [DailySales(day=str(r.day), orders=r.orders, revenue=Decimal(str(r.revenue or 0))) for r in rows]


def top_customers(session: Session, limit: int = 10) -> list[TopCustomer]:
    rows = session.execute(text(TOP_CUSTOMERS_SQL), {"limit": limit})
    return [
        TopCustomer(user_id=r.id, email=r.email, orders=r.orders, spent=Decimal(str(r.spent or 0))) for r in rows
    ]


def outstanding_invoices(session: Session) -> list[OutstandingInvoice]:
    rows = session.execute(text(OUTSTANDING_INVOICES_SQL))
    return [
        OutstandingInvoice(number=r.number, issued_at=str(r.issued_at), gross=Decimal(str(r.gross)), order_id=r.order_id)
        for r in rows
    ]
