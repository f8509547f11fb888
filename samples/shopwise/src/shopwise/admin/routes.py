"""Back-office HTTP routes (admin only)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel
from sqlalchemy.orm import Session

from shopwise.admin import maintenance, reports
from shopwise.db.session import get_session
from shopwise.users.auth import require_admin

router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(require_admin)])


class FlagIn(BaseModel):
    enabled: bool


@router.post("/ai/cache/clear")
def clear_ai_caches() -> dict[str, int]:
    return maintenance.clear_ai_caches()


@router.post("/flags/{name}")
def set_flag(name: str, body: FlagIn) -> dict[str, bool]:
    try:
        return maintenance.set_feature_flag(name, body.enabled)
    except KeyError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown flag {name}") from None


@router.post("/embeddings/rebuild")
def rebuild_embeddings() -> dict[str, int]:
    return {"embedded": maintenance.rebuild_embeddings()}


@router.get("/reports/sales", response_model=list[reports.DailySales])
def sales(days: int = 30, session: Session = Depends(get_session)) -> list[reports.DailySales]:
    return reports.sales_by_day(session, days)


@router.get("/reports/top-customers", response_model=list[reports.TopCustomer])
def top_customers(limit: int = 10, session: Session = Depends(get_session)) -> list[reports.TopCustomer]:
    return reports.top_customers(session, limit)


@router.get("/reports/outstanding-invoices", response_model=list[reports.OutstandingInvoice])
def outstanding_invoices(session: Session = Depends(get_session)) -> list[reports.OutstandingInvoice]:
    return reports.outstanding_invoices(session)
