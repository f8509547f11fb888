"""HTTP routes for checkout and order history."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, status
from sqlalchemy.orm import Session

from shopwise.db.models import User
from shopwise.db.session import get_session
from shopwise.orders import service
from shopwise.orders.schemas import OrderCreate, OrderOut
from shopwise.users.auth import get_current_user

router = APIRouter(prefix="/orders", tags=["orders"])


@router.post("", response_model=OrderOut, status_code=status.HTTP_201_CREATED)
def place_order(
    data: OrderCreate, user: User = Depends(get_current_user), session: Session = Depends(get_session)
) -> OrderOut:
    try:
        order = service.place_order(session, user, data)
    except service.OrderError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return OrderOut.model_validate(order)


@router.get("", response_model=list[OrderOut])
def my_orders(user: User = Depends(get_current_user), session: Session = Depends(get_session)) -> list[OrderOut]:
    return [OrderOut.model_validate(o) for o in service.list_orders_for_user(session, user.id)]


@router.get("/{order_id}", response_model=OrderOut)
def get_order(
    order_id: int, user: User = Depends(get_current_user), session: Session = Depends(get_session)
) -> OrderOut:
    try:
        order = service.get_order(session, order_id)
    except service.OrderNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "order not found") from None
    if order.user_id != user.id and not user.is_admin:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "order not found")
    return OrderOut.model_validate(order)


@router.post("/{order_id}/cancel", response_model=OrderOut)
def cancel_order(
    order_id: int, user: User = Depends(get_current_user), session: Session = Depends(get_session)
) -> OrderOut:
    order = service.get_order(session, order_id)
    if order.user_id != user.id and not user.is_admin:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "order not found")
    try:
        return OrderOut.model_validate(service.cancel_order(session, order))
    except service.OrderError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
