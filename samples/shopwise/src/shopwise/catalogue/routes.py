"""HTTP routes for products, search and AI-generated product content."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Query, status
from sqlalchemy.orm import Session

from shopwise.ai.images import generator as image_generator
from shopwise.catalogue import enrichment, search, service
from shopwise.catalogue.schemas import (
    DescriptionOut,
    DescriptionRequest,
    ImageOut,
    ImageRequest,
    ProductIn,
    ProductOut,
    ProductUpdate,
    SearchHit,
    SeoSuggestion,
)
from shopwise.core.config import settings
from shopwise.db.session import get_session
from shopwise.users.auth import require_admin

router = APIRouter(prefix="/products", tags=["catalogue"])


def _require_flag(name: str) -> None:
    if not settings.FEATURE_FLAGS.get(name, False):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"feature '{name}' is disabled")


@router.get("", response_model=list[ProductOut])
def list_products(
    category: str | None = None,
    offset: int = Query(0, ge=0),
    limit: int = Query(50, le=200),
    session: Session = Depends(get_session),
) -> list[ProductOut]:
    from shopwise.catalogue import repository

    rows = repository.list_products(session, category=category, offset=offset, limit=limit)
    return [ProductOut.model_validate(row) for row in rows]


@router.get("/search", response_model=list[SearchHit])
def search_products(
    q: str = Query(..., min_length=2), limit: int = Query(10, le=50), session: Session = Depends(get_session)
) -> list[SearchHit]:
    return search.search_products(session, q, limit)


@router.get("/{product_id}", response_model=ProductOut)
def get_product(product_id: int, session: Session = Depends(get_session)) -> ProductOut:
    try:
        return ProductOut.model_validate(service.get_product(session, product_id))
    except service.ProductNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "product not found") from None


@router.get("/{product_id}/related", response_model=list[ProductOut])
def related(product_id: int, session: Session = Depends(get_session)) -> list[ProductOut]:
    return search.related_products(session, product_id)


@router.post("", response_model=ProductOut, status_code=status.HTTP_201_CREATED, dependencies=[Depends(require_admin)])
def create_product(data: ProductIn, session: Session = Depends(get_session)) -> ProductOut:
    try:
        return service.create_product(session, data)
    except service.DuplicateSku:
        raise HTTPException(status.HTTP_409_CONFLICT, "sku already exists") from None


@router.patch("/{product_id}", response_model=ProductOut, dependencies=[Depends(require_admin)])
def update_product(product_id: int, data: ProductUpdate, session: Session = Depends(get_session)) -> ProductOut:
    return service.update_product(session, product_id, data)


@router.post("/{product_id}/description", response_model=DescriptionOut, dependencies=[Depends(require_admin)])
def write_description(
    product_id: int, body: DescriptionRequest, session: Session = Depends(get_session)
) -> DescriptionOut:
    _require_flag("ai_descriptions")
    text = service.describe_product(
        session, product_id, tone=body.tone, language=body.language, max_words=body.max_words, save=body.save
    )
    return DescriptionOut(product_id=product_id, description=text, saved=body.save)


@router.post("/{product_id}/image", response_model=ImageOut, dependencies=[Depends(require_admin)])
def generate_image(product_id: int, body: ImageRequest, session: Session = Depends(get_session)) -> ImageOut:
    _require_flag("ai_images")
    url = image_generator.generate_product_image(session, product_id, style=body.style, backend=body.backend)
    return ImageOut(product_id=product_id, image_url=url)


@router.post("/{product_id}/seo", response_model=SeoSuggestion, dependencies=[Depends(require_admin)])
def seo_suggestions(product_id: int, session: Session = Depends(get_session)) -> SeoSuggestion:
    product = service.get_product(session, product_id)
    keywords, alt_text = enrichment.suggest_seo(product)
    return SeoSuggestion(product_id=product_id, keywords=keywords, alt_text=alt_text)
