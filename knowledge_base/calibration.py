"""Choosing the decision thresholds on a labelled set, with a cross-validated estimate.

Every message is searched once; each grid point only re-runs :func:`decide` on the stored
scores. The objective rewards right answers, gives partial credit to a "did you mean" that
offers the right entry, and punishes a wrong answer (or an answered off-topic message) several
times over: a wrong answer misleads a person, a clarify costs them one tap.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass

import numpy as np

from knowledge_base.evaluation import Labelled
from knowledge_base.search import Candidate, KnowledgeBase, Thresholds, decide

WRONG_WEIGHT = 4.0
CLARIFY_CREDIT = 0.4
MIN_REJECTION = 0.95


@dataclass(frozen=True)
class Scored:
    expected: str | None
    candidates: list[Candidate]
    out_of_scope: float


@dataclass(frozen=True)
class Outcome:
    answered_right: float
    answered_wrong: float
    clarified_right: float
    oos_rejected: float
    objective: float


@dataclass(frozen=True)
class Calibration:
    thresholds: Thresholds
    outcome: Outcome
    cross_validated: Outcome  # each fold's choice, judged on the fold it did not see

    def as_json(self) -> dict[str, object]:
        return {
            "thresholds": asdict(self.thresholds),
            "dev_set": asdict(self.outcome),
            "cross_validated_5_fold": asdict(self.cross_validated),
            "env": {
                "UYUM_KB_ANSWER_THRESHOLD": self.thresholds.answer,
                "UYUM_KB_CLARIFY_THRESHOLD": self.thresholds.clarify,
                "UYUM_KB_MARGIN": self.thresholds.margin,
            },
        }


def score_all(kb: KnowledgeBase, items: list[Labelled]) -> list[Scored]:
    scored = []
    for item in items:
        result = kb.search(item.text, item.lang)
        scored.append(Scored(item.entry_id, result.candidates, result.out_of_scope))
    return scored


def judge(scored: list[Scored], t: Thresholds) -> Outcome:
    right = wrong = clarified = rejected = in_scope = oos = 0
    for s in scored:
        decision = decide(s.candidates, s.out_of_scope, t)
        top = s.candidates[0].entry_id if s.candidates else None
        if s.expected is None:
            oos += 1
            rejected += decision == "fallback"
            wrong += decision == "answer"
            continue
        in_scope += 1
        if decision == "answer":
            right += top == s.expected
            wrong += top != s.expected
        elif decision == "clarify":
            clarified += s.expected in [c.entry_id for c in s.candidates]
    n = max(in_scope, 1)
    objective = (right + CLARIFY_CREDIT * clarified - WRONG_WEIGHT * wrong) / max(len(scored), 1)
    return Outcome(
        round(right / n, 4),
        round(wrong / max(len(scored), 1), 4),
        round(clarified / n, 4),
        round(rejected / max(oos, 1), 4),
        round(objective, 4),
    )


def _grid() -> list[Thresholds]:
    grid = []
    for answer in np.arange(0.84, 1.0, 0.005):
        for clarify in np.arange(0.78, answer + 1e-9, 0.005):
            for margin in (0.0, 0.005, 0.01, 0.015, 0.02, 0.03):
                grid.append(Thresholds(round(float(answer), 3), round(float(clarify), 3), margin))
    return grid


def best(scored: list[Scored], min_rejection: float = MIN_REJECTION) -> tuple[Thresholds, Outcome]:
    choice: tuple[Thresholds, Outcome] | None = None
    for t in _grid():
        outcome = judge(scored, t)
        if outcome.oos_rejected < min_rejection:
            continue
        # ties go to the stricter "did you mean" threshold: fewer choices offered for nothing
        if choice is None or (outcome.objective, t.clarify) > (
            choice[1].objective,
            choice[0].clarify,
        ):
            choice = (t, outcome)
    if choice is None:  # no grid point rejects enough: take the strictest
        strictest = Thresholds(1.0, 1.0, 0.03)
        return strictest, judge(scored, strictest)
    return choice


def calibrate(kb: KnowledgeBase, items: list[Labelled], folds: int = 5) -> Calibration:
    scored = score_all(kb, items)
    thresholds, outcome = best(scored)
    shuffled = scored[:]
    random.Random(13).shuffle(shuffled)
    held_out: list[Outcome] = []
    for k in range(folds):
        test = shuffled[k::folds]
        train = [s for i, s in enumerate(shuffled) if i % folds != k]
        held_out.append(judge(test, best(train)[0]))
    mean = Outcome(
        *(
            round(float(np.mean([getattr(o, f) for o in held_out])), 4)
            for f in Outcome.__dataclass_fields__
        )
    )
    return Calibration(thresholds, outcome, mean)
