"""Complaints and the dashboard in the operator API (``/api/v1/complaints``, ``/analytics``).

Complaints are read by supervisors, admins and the protection focal point; confidential
ones (staff conduct, sexual exploitation or abuse) only by the protection role: to anyone
else they are not listed and a direct read is 403. Every read of a complaint's text and
every status change is audited. The dashboard's figures (supervisors and admins) carry no
personal data; each table is also a CSV download with formula-looking cells escaped. The
content gaps (editors too) are the unanswered questions grouped by meaning (bot/gaps.py),
each of which can be taken as a draft knowledge-base entry.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from functools import lru_cache
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy import select

from bot import dashboard, gaps
from bot.audit import audit
from bot.complaints import CATEGORIES, STATUSES, Category, Status, find_reference
from bot.dashboard import Table
from bot.models import Complaint, utcnow
from common.errors import ForbiddenError, NotFoundError
from knowledge_base.embedders import Embedder, make_embedder
from webhooks.console_auth import Console, ConsoleDep, require_role

router = APIRouter(prefix="/api/v1", tags=["complaints and analytics"])
CASE_READERS = ("supervisor", "admin", "protection")
CONFIDENTIAL_READERS = ("protection",)
DASHBOARD_READERS = ("supervisor", "admin")
GAP_READERS = ("editor", "supervisor", "admin")  # editors write the missing entries
Language = Annotated[str, Query(pattern=r"^[a-z]{2,3}$")]
Days = Annotated[int, Query(ge=1, le=366)]


class StatusChange(BaseModel):
    status: Status


def _view(complaint: Complaint) -> dict[str, Any]:
    return {
        "reference": complaint.reference,
        "category": complaint.category,
        "confidential": complaint.confidential,
        "anonymous": complaint.anonymous,
        "channel": complaint.channel,
        "language": complaint.language,
        "status": complaint.status,
        "created_at": complaint.created_at.isoformat(),
        "updated_at": complaint.updated_at.isoformat(),
        "text": complaint.text,
    }


def _may_read_confidential(console: Console) -> bool:
    return console.operator.role in CONFIDENTIAL_READERS


async def _complaint(console: Console, reference: str) -> Complaint:
    require_role(console, *CASE_READERS)
    found = find_reference(reference)
    complaint = (
        await console.session.scalar(select(Complaint).where(Complaint.reference == found))
        if found
        else None
    )
    if complaint is None:
        raise NotFoundError("no complaint with this reference")
    if complaint.confidential and not _may_read_confidential(console):
        raise ForbiddenError("confidential reports are for the protection focal point only")
    return complaint


@router.get("/complaints")
async def list_complaints(
    console: ConsoleDep,
    status: Status | None = None,
    category: Category | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Complaints, newest first (confidential ones only for the protection role)."""
    require_role(console, *CASE_READERS)
    query = select(Complaint).order_by(Complaint.id.desc()).limit(limit)
    if not _may_read_confidential(console):
        query = query.where(Complaint.confidential.is_(False))
    if status is not None:
        query = query.where(Complaint.status == status)
    if category is not None:
        query = query.where(Complaint.category == category)
    complaints = (await console.session.scalars(query)).all()
    audit(
        console.session,
        console.operator.id,
        "complaints_read",
        references=[c.reference for c in complaints],
    )
    await console.session.commit()
    return {
        "complaints": [_view(c) for c in complaints],
        "statuses": list(STATUSES),
        "categories": list(CATEGORIES),
        "can_read_confidential": _may_read_confidential(console),
    }


@router.get("/complaints/{reference}")
async def read_complaint(reference: str, console: ConsoleDep) -> dict[str, Any]:
    complaint = await _complaint(console, reference)
    audit(console.session, console.operator.id, "complaint_read", reference=complaint.reference)
    async with console.state.gate():
        await console.session.commit()
    return _view(complaint)


@router.post("/complaints/{reference}/status")
async def change_status(
    reference: str, change: StatusChange, console: ConsoleDep
) -> dict[str, Any]:
    complaint = await _complaint(console, reference)
    before, complaint.status, complaint.updated_at = complaint.status, change.status, utcnow()
    audit(
        console.session,
        console.operator.id,
        "complaint_status",
        reference=complaint.reference,
        before=before,
        after=change.status,
    )
    await console.session.commit()
    return _view(complaint)


@lru_cache(maxsize=2)
def _embedder(backend: str, model: str) -> Embedder:
    """Loaded on the first gap listing (most questions carry NLU's vector already)."""
    return make_embedder(backend, model)


async def _gaps(console: Console, days: int, language: str | None) -> list[gaps.GapCluster]:
    require_role(console, *GAP_READERS)
    settings = console.state.settings
    embedder = await asyncio.to_thread(_embedder, settings.kb_backend, settings.kb_model)
    since = utcnow() - dt.timedelta(days=days)
    return await gaps.find(console.session, embedder, since=since, language=language)


@router.get("/analytics/gaps")
async def content_gaps(
    console: ConsoleDep, days: Days = 90, language: Language | None = None
) -> dict[str, Any]:
    """Unanswered questions grouped by meaning per language (as ``uyum analytics gaps``)."""
    clusters = await _gaps(console, days, language)
    return {
        "days": days,
        "clusters": [{"number": number, **c.view()} for number, c in enumerate(clusters, 1)],
    }


@router.get("/analytics/gaps/{number}/draft")
async def gap_draft(
    number: Annotated[int, Path(ge=1)],
    console: ConsoleDep,
    days: Days = 90,
    language: Language | None = None,
) -> dict[str, str]:
    """Cluster ``number`` of the same listing as a knowledge-base entry skeleton (YAML)."""
    clusters = await _gaps(console, days, language)
    if number > len(clusters):
        raise NotFoundError(f"there is no cluster {number}")
    entry_id, text = gaps.draft_entry(clusters[number - 1], utcnow().date())
    return {"filename": f"{entry_id}.yml", "yaml": text}


@router.get("/analytics/summary")
async def analytics_summary(console: ConsoleDep, days: Days = 30) -> dict[str, Any]:
    """Messages, answer rate, entries, feedback, handovers and broadcast reach since ``days``."""
    require_role(console, *DASHBOARD_READERS)
    return await dashboard.summary(console.session, days, utcnow())


@router.get("/analytics/{table}.csv")
async def analytics_csv(table: Table, console: ConsoleDep, days: Days = 30) -> Response:
    """One dashboard table as CSV (audited: an export)."""
    require_role(console, *DASHBOARD_READERS)
    rows = await dashboard.table_rows(console.session, table, days, utcnow())
    audit(console.session, console.operator.id, "analytics_export", table=table, days=days)
    await console.session.commit()
    return Response(
        dashboard.to_csv(rows, dashboard.COLUMNS[table]),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="uyum-{table}-{days}d.csv"'},
    )
