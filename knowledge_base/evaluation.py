"""Evaluation on a labelled JSONL file: ranking quality, decisions and latency per language."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from common.errors import BadRequestError
from knowledge_base.search import KnowledgeBase, SearchResult


@dataclass(frozen=True)
class Labelled:
    text: str
    lang: str | None
    entry_id: str | None  # None: out of scope


def read_labelled(path: Path) -> list[Labelled]:
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            items.append(Labelled(str(data["text"]), data.get("lang"), data.get("id")))
        except (ValueError, KeyError, TypeError):
            raise BadRequestError(
                f"{path.name} line {number}: not a labelled question",
                hint='each line is {"text": "...", "lang": "ar" (optional), "id": "entry" or null}',
            ) from None
    if not items:
        raise BadRequestError(f"{path.name} has no labelled lines", hint="one JSON object per line")
    return items


@dataclass
class _Tally:
    n: int = 0
    top1: int = 0
    top3: int = 0
    rr: float = 0.0
    answered_right: int = 0
    answered_wrong: int = 0
    clarified: int = 0

    def add(self, item: Labelled, result: SearchResult) -> None:
        ranked = [c.entry_id for c in result.candidates]
        self.n += 1
        if ranked[:1] == [item.entry_id]:
            self.top1 += 1
        if item.entry_id in ranked[:3]:
            self.top3 += 1
            self.rr += 1.0 / (ranked.index(item.entry_id) + 1)
        if result.decision == "answer":
            if result.entry_id == item.entry_id:
                self.answered_right += 1
            else:
                self.answered_wrong += 1
        elif result.decision == "clarify":
            self.clarified += 1

    def as_json(self) -> dict[str, float | int]:
        n = max(self.n, 1)
        return {
            "n": self.n,
            "top1": round(self.top1 / n, 4),
            "top3": round(self.top3 / n, 4),
            "mrr": round(self.rr / n, 4),
            "answered_right": round(self.answered_right / n, 4),
            "answered_wrong": round(self.answered_wrong / n, 4),
            "clarified": round(self.clarified / n, 4),
        }


@dataclass
class Report:
    overall: dict[str, Any]
    languages: dict[str, dict[str, Any]]
    out_of_scope: dict[str, Any]
    latency_ms: dict[str, float]
    misses: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "overall": self.overall,
            "languages": self.languages,
            "out_of_scope": self.out_of_scope,
            "latency_ms": self.latency_ms,
        }


def evaluate(kb: KnowledgeBase, items: list[Labelled]) -> Report:
    overall = _Tally()
    per_lang: dict[str, _Tally] = defaultdict(_Tally)
    oos_total = oos_rejected = 0
    seconds: list[float] = []
    misses: list[dict[str, Any]] = []
    for item in items:
        result = kb.search(item.text, item.lang)
        seconds.append(result.seconds)
        if item.entry_id is None:
            oos_total += 1
            oos_rejected += result.decision == "fallback"
            if result.decision != "fallback":
                misses.append({"text": item.text, "expected": None, "got": result.as_json()["id"]})
            continue
        lang = item.lang or result.lang
        overall.add(item, result)
        per_lang[lang].add(item, result)
        top = result.candidates[0].entry_id if result.candidates else None
        if top != item.entry_id:
            misses.append({"text": item.text, "expected": item.entry_id, "got": top})
    ms = np.array(seconds) * 1000.0
    return Report(
        overall.as_json(),
        {lang: tally.as_json() for lang, tally in sorted(per_lang.items())},
        {"n": oos_total, "rejected": round(oos_rejected / max(oos_total, 1), 4)},
        {
            p: round(float(np.percentile(ms, q)), 2)
            for p, q in (("p50", 50), ("p95", 95), ("p99", 99))
        },
        misses,
    )
