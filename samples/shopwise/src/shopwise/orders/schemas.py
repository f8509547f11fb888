"""Pydantic schemas for the orders API."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class OrderLineIn(BaseModel):
    product_id: int
    quantity: int = Field(gt=0, le=99)


class OrderCreate(BaseModel):
    lines: list[OrderLineIn] = Field(min_length=1)
    note: str | None = Field(default=None, max_length=500)


class OrderLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    product_id: int
    quantity: int
    unit_price: Decimal


class OrderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    status: str
    total: Decimal
    currency: str
    created_at: datetime | None = None
    lines: list[OrderLineOut] = []


class OrderSummary(BaseModel):
    """Short form used by the support assistant context and the admin lists."""

    id: int
    status: str
    total: Decimal
    item_count: int
