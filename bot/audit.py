"""The audit log: who did what to which handover, with ids and states, never content."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import AuditEntry, ConsoleEvent


def audit(
    session: AsyncSession,
    operator_id: int | None,
    action: str,
    handover_id: int | None = None,
    **detail: Any,
) -> None:
    """Record one operator action in the caller's transaction."""
    session.add(
        AuditEntry(operator_id=operator_id, action=action, handover_id=handover_id, detail=detail)
    )


def console_event(
    session: AsyncSession, kind: str, handover_id: int | None, conversation_id: int | None
) -> None:
    """Tell open consoles that something changed (they fetch what they may see)."""
    session.add(ConsoleEvent(kind=kind, handover_id=handover_id, conversation_id=conversation_id))
