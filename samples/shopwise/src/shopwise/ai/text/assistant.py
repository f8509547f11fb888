"""Support chat assistant: answers customers using their recent orders."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from openai import OpenAIError
from sqlalchemy import select
from sqlalchemy.orm import Session

from shopwise.ai.client import client
from shopwise.ai.text._prompts import _SYSTEM_PROMPT, order_context
from shopwise.core.config import settings
from shopwise.db.models import Order, User
from shopwise.support import conversation

logger = logging.getLogger(__name__)

HANDOFF_TOKEN = "[HANDOFF]"
_FALLBACK = "Sorry, I can't answer right now. A colleague from our support team will get back to you."


@dataclass
class AssistantReply:
    conversation_id: str
    text: str
    handoff: bool


def answer(session: Session, user: User, conversation_id: str, message: str) -> AssistantReply:
    """Answer one customer message in an ongoing conversation."""
    recent = session.scalars(
        select(Order).where(Order.user_id == user.id).order_by(Order.created_at.desc()).limit(5)
    ).all()
    messages = [
        {"role": "system", "content": _SYSTEM_PROMPT},
        {"role": "system", "content": order_context(user, recent)},
        *conversation.history(conversation_id),
        {"role": "user", "content": message},
    ]
    try:
        response = client.chat.completions.create(
            model=settings.SUPPORT_MODEL,
            messages=messages,
            temperature=0.2,
            max_tokens=400,
            user=str(user.id),
        )
        text = (response.choices[0].message.content or "").strip()
    except OpenAIError:
        logger.exception("support assistant failed for conversation %s", conversation_id)
        text = f"{_FALLBACK} {HANDOFF_TOKEN}"

    handoff = HANDOFF_TOKEN in text
    text = text.replace(HANDOFF_TOKEN, "").strip()
    conversation.append(conversation_id, "user", message)
    conversation.append(conversation_id, "assistant", text)
    return AssistantReply(conversation_id=conversation_id, text=text, handoff=handoff)
