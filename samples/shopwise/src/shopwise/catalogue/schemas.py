"""Pydantic schemas for the catalogue API."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class ProductIn(BaseModel):
    sku: str = Field(min_length=3, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    price: Decimal = Field(gt=0, decimal_places=2)
    stock: int = Field(default=0, ge=0)
    category: str = "misc"
    attributes: dict[str, str] = Field(default_factory=dict)


class ProductUpdate(BaseModel):
    name: str | None = None
    description: str | None = None
    price: Decimal | None = Field(default=None, gt=0)
    stock: int | None = Field(default=None, ge=0)
    category: str | None = None
    attributes: dict[str, str] | None = None


class ProductOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    sku: str
    name: str
    description: str
    price: Decimal
    stock: int
    category: str
    image_url: str | None = None


class SearchHit(BaseModel):
    product: ProductOut
    score: float
    matched_by: str = "semantic"


class DescriptionRequest(BaseModel):
    tone: str = "friendly"
    language: str = "en"
    max_words: int = Field(default=120, ge=20, le=400)
    save: bool = True


class DescriptionOut(BaseModel):
    product_id: int
    description: str
    saved: bool


class ImageRequest(BaseModel):
    style: str = "studio photo on a white background"
    backend: str | None = Field(default=None, pattern="^(openai|stability)$")


class ImageOut(BaseModel):
    product_id: int
    image_url: str


class SeoSuggestion(BaseModel):
    product_id: int
    keywords: list[str]
    alt_text: str
