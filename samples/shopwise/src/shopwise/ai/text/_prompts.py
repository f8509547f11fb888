"""Prompt texts. Private to shopwise.ai.text (in theory)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

_SYSTEM_PROMPT = """\
You are Wise, the customer support assistant of the Shopwise online shop.
Be brief, friendly and precise. Only answer questions about Shopwise products,
orders, deliveries, returns and invoices. Never invent order data: use only the
order context you are given. If the customer is angry, asks for a refund above
100 EUR, or you cannot help, reply with the single token [HANDOFF] at the end
so that a human agent takes over.
"""

_DESCRIPTION_PROMPT = """\
Write a product description for an online shop.
Tone: {tone}. Language: {language}. At most {max_words} words.
Do not invent technical specifications that are not listed below.
Start with one sentence that says what the product is for, then 2-4 short
bullet points of benefits. Plain text, no markdown headings.

Product name: {name}
Category: {category}
Price: {price} EUR
Attributes:
{attributes}
"""

_TONE_HINTS: dict[str, str] = {
    "friendly": "warm and approachable, second person",
    "formal": "neutral and factual, third person",
    "playful": "light and witty, but never silly about safety",
    "luxury": "understated, premium, no exclamation marks",
}


def description_messages(product: Any, *, tone: str, language: str, max_words: int) -> list[dict[str, str]]:
    attributes = "\n".join(f"- {k}: {v}" for k, v in sorted((product.attributes or {}).items())) or "- none"
    prompt = _DESCRIPTION_PROMPT.format(
        tone=_TONE_HINTS.get(tone, tone),
        language=language,
        max_words=max_words,
        name=product.name,
        category=product.category,
        price=product.price,
        attributes=attributes,
    )
    return [
        {"role": "system", "content": "You write concise, accurate e-commerce copy."},
        {"role": "user", "content": prompt},
    ]


def order_context(user: Any, orders: Iterable[Any]) -> str:
    """Facts about the customer that the assistant may use."""
    rows = [f"Customer: {user.full_name or user.email} (id {user.id})"]
    for order in orders:
        items = ", ".join(f"{line.quantity}x product {line.product_id}" for line in order.lines)
        rows.append(f"Order {order.id}: status {order.status}, total {order.total} {order.currency}; {items}")
    if len(rows) == 1:
        rows.append("The customer has no orders yet.")
    return "\n".join(rows)
