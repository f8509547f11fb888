"""Chat history for the support assistant, kept in process memory.

A conversation is a bounded deque of {"role", "content"} messages. Lost on
restart, which is acceptable for a support chat.
"""

from __future__ import annotations

import threading
import uuid
from collections import deque

MAX_TURNS = 12

_conversations: dict[str, deque[dict[str, str]]] = {}
_lock = threading.Lock()


def new_conversation_id() -> str:
    return uuid.uuid4().hex


def history(conversation_id: str) -> list[dict[str, str]]:
    with _lock:
        return list(_conversations.get(conversation_id, ()))


def append(conversation_id: str, role: str, content: str) -> None:
    with _lock:
        turns = _conversations.setdefault(conversation_id, deque(maxlen=MAX_TURNS * 2))
        turns.append({"role": role, "content": content})


def reset(conversation_id: str) -> None:
    with _lock:
        _conversations.pop(conversation_id, None)


def transcript(conversation_id: str) -> list[dict[str, str]]:
    """History in a form that can be stored on a ticket."""
    return [dict(turn) for turn in history(conversation_id)]
