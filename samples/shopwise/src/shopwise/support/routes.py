"""HTTP routes for the support chat and support tickets."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from shopwise.ai.text import assistant
from shopwise.core.config import settings
from shopwise.db.models import User
from shopwise.db.session import get_session
from shopwise.support import conversation, tickets
from shopwise.users.auth import get_current_user, require_admin

router = APIRouter(prefix="/support", tags=["support"])


class ChatIn(BaseModel):
    message: str = Field(min_length=1, max_length=2000)
    conversation_id: str | None = None


class ChatOut(BaseModel):
    conversation_id: str
    reply: str
    handed_off: bool = False
    ticket_id: int | None = None


class TicketIn(BaseModel):
    subject: str = Field(min_length=3, max_length=200)
    body: str = Field(min_length=10)


class TicketOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    subject: str
    summary: str | None = None
    status: str


@router.post("/chat", response_model=ChatOut)
def chat(body: ChatIn, user: User = Depends(get_current_user), session: Session = Depends(get_session)) -> ChatOut:
    if not settings.FEATURE_FLAGS.get("support_assistant"):
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "support chat is offline, please open a ticket")
    conversation_id = body.conversation_id or conversation.new_conversation_id()
    reply = assistant.answer(session, user, conversation_id, body.message)
    ticket_id = None
    if reply.handoff:
        ticket = tickets.open_ticket(
            session, user, subject=body.message[:80], body=body.message,
            transcript=conversation.transcript(conversation_id),
        )
        ticket_id = ticket.id
    return ChatOut(conversation_id=conversation_id, reply=reply.text, handed_off=reply.handoff, ticket_id=ticket_id)


@router.post("/tickets", response_model=TicketOut, status_code=status.HTTP_201_CREATED)
def open_ticket(
    body: TicketIn, user: User = Depends(get_current_user), session: Session = Depends(get_session)
) -> TicketOut:
    return TicketOut.model_validate(tickets.open_ticket(session, user, body.subject, body.body))


@router.get("/tickets", response_model=list[TicketOut], dependencies=[Depends(require_admin)])
def list_tickets(session: Session = Depends(get_session)) -> list[TicketOut]:
    return [TicketOut.model_validate(t) for t in tickets.list_open(session)]


@router.post("/tickets/{ticket_id}/close", response_model=TicketOut, dependencies=[Depends(require_admin)])
def close_ticket(ticket_id: int, session: Session = Depends(get_session)) -> TicketOut:
    ticket = tickets.close_ticket(session, ticket_id)
    if ticket is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "ticket not found")
    return TicketOut.model_validate(ticket)
