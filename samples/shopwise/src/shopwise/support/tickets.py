"""Support tickets for a human agent, with an AI summary of the issue."""

from __future__ import annotations

import logging

from openai import OpenAIError
from sqlalchemy import select
from sqlalchemy.orm import Session

from shopwise.ai.client import client
from shopwise.ai.text._prompts import _SYSTEM_PROMPT
from shopwise.core.config import settings
from shopwise.db.models import SupportTicket, User

logger = logging.getLogger(__name__)

_SUMMARY_INSTRUCTION = (
    "You are now helping a human agent instead of the customer. Summarise the "
    "customer's issue in at most two sentences and name the order id if there is one."
)


def summarise(body: str, transcript: list[dict[str, str]] | None = None) -> str | None:
    conversation = "\n".join(f"{t['role']}: {t['content']}" for t in transcript or [])
    try:
        response = client.chat.completions.create(
            model=settings.SUPPORT_MODEL,
            messages=[
                {"role": "system", "content": _SYSTEM_PROMPT + "\n" + _SUMMARY_INSTRUCTION},
                {"role": "user", "content": f"Ticket text:\n{body}\n\nChat so far:\n{conversation}"},
            ],
            temperature=0.0,
            max_tokens=120,
        )
    except OpenAIError:
        logger.warning("ticket summary failed", exc_info=True)
        return None
    return (response.choices[0].message.content or "").strip() or None


def open_ticket(
    session: Session, user: User, subject: str, body: str, transcript: list[dict[str, str]] | None = None
) -> SupportTicket:
    ticket = SupportTicket(user_id=user.id, subject=subject[:200], body=body, transcript=transcript)
    if settings.FEATURE_FLAGS.get("ticket_summaries"):
        ticket.summary = summarise(body, transcript)
    session.add(ticket)
    session.flush()
    return ticket


def list_open(session: Session, limit: int = 100) -> list[SupportTicket]:
    stmt = select(SupportTicket).where(SupportTicket.status == "open").order_by(SupportTicket.created_at)
    return list(session.scalars(stmt.limit(limit)))


def close_ticket(session: Session, ticket_id: int) -> SupportTicket | None:
    ticket = session.get(SupportTicket, ticket_id)
    if ticket is not None:
        ticket.status = "closed"
        session.flush()
    return ticket
