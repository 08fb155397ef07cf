"""Content checks beyond the schema: near-duplicate phrasings across entries, dead sources."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx

from knowledge_base.content import Content
from knowledge_base.index import Index

NEAR_DUPLICATE = 0.97  # cosine; above it two entries compete for the same question
NEIGHBOURS = 6


@dataclass(frozen=True)
class Finding:
    severity: str  # "warning" | "error"
    entry_id: str
    field: str
    message: str

    def line(self) -> str:
        return f"{self.severity}: entry '{self.entry_id}', field '{self.field}': {self.message}"


def near_duplicates(index: Index, threshold: float = NEAR_DUPLICATE) -> list[Finding]:
    """Phrasings of different entries that the embedder can barely tell apart."""
    vectors = index.faiss_index.reconstruct_n(0, index.faiss_index.ntotal)
    scores, rows = index.faiss_index.search(vectors, NEIGHBOURS)
    findings = []
    for i, (row_scores, row_ids) in enumerate(zip(scores, rows, strict=True)):
        mine = index.phrasings[i]
        for score, j in zip(row_scores.tolist(), row_ids.tolist(), strict=True):
            other = index.phrasings[j] if j > i else None
            if other is None or score < threshold or not mine.entry_id or not other.entry_id:
                continue
            if mine.entry_id != other.entry_id:
                findings.append(
                    Finding(
                        "warning",
                        mine.entry_id,
                        f"translations.{mine.lang}.questions",
                        f"'{mine.text}' is almost the same as '{other.text}' in entry "
                        f"'{other.entry_id}' ({score:.3f}); reword one of them",
                    )
                )
    return findings


async def _probe(client: httpx.AsyncClient, url: str) -> str | None:
    try:
        response = await client.get(url)
    except httpx.HTTPError as exc:
        return exc.__class__.__name__
    return f"HTTP {response.status_code}" if response.status_code >= 400 else None


async def dead_sources(content: Content, *, seconds_per_url: float = 15.0) -> list[Finding]:
    """Every distinct source URL fetched once; a 4xx/5xx or no answer is an error."""
    users: dict[str, list[str]] = {}
    for entry in content.entries:
        for url in entry.sources:
            users.setdefault(str(url), []).append(entry.id)
    headers = {"User-Agent": "uyum-kb-check/0.1 (source link check)"}
    async with httpx.AsyncClient(
        timeout=seconds_per_url, follow_redirects=True, headers=headers
    ) as client:
        problems = await asyncio.gather(*(_probe(client, url) for url in users))
    return [
        Finding("error", entry_id, "sources", f"{url} does not answer ({problem})")
        for url, problem in zip(users, problems, strict=True)
        if problem
        for entry_id in users[url]
    ]
