"""HTTP routes for paying orders and downloading invoices."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from shopwise.billing import invoices, payments
from shopwise.db.models import Order, User
from shopwise.db.session import get_session
from shopwise.users.auth import get_current_user

router = APIRouter(tags=["billing"])


class PaymentIn(BaseModel):
    payment_token: str


class PaymentOut(BaseModel):
    ok: bool
    reference: str | None = None
    message: str = ""


@router.post("/orders/{order_id}/pay", response_model=PaymentOut)
def pay_order(
    order_id: int, body: PaymentIn, user: User = Depends(get_current_user), session: Session = Depends(get_session)
) -> PaymentOut:
    order = session.get(Order, order_id)
    if order is None or order.user_id != user.id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "order not found")
    try:
        result = payments.charge_order(session, order, body.payment_token)
    except payments.PaymentError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return PaymentOut(ok=result.ok, reference=result.reference, message=result.message)


@router.get("/orders/{order_id}/invoice", response_class=PlainTextResponse)
def download_invoice(
    order_id: int, user: User = Depends(get_current_user), session: Session = Depends(get_session)
) -> str:
    try:
        invoice = invoices.invoice_for_order(session, order_id)
    except (invoices.InvoiceNotFound, LookupError):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "invoice not found") from None
    if invoice.order.user_id != user.id and not user.is_admin:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "invoice not found")
    return invoices.render_text(invoice)
