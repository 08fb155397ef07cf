"""Threshold choice: rejects off-topic messages first, then answers as much as it safely can."""

from __future__ import annotations

from knowledge_base.calibration import Scored, best, judge
from knowledge_base.search import Candidate, Thresholds


def scored(expected: str | None, top: tuple[str, float], second: float, oos: float) -> Scored:
    return Scored(expected, [Candidate(top[0], top[1]), Candidate("other", second)], oos)


DATA = (
    [scored("a", ("a", 0.95), 0.85, 0.80)] * 6  # clear answers
    + [scored("a", ("a", 0.88), 0.875, 0.80)] * 2  # close call, right on top
    + [scored("b", ("a", 0.90), 0.86, 0.80)] * 1  # the wrong entry scores best
    + [scored(None, ("a", 0.86), 0.85, 0.84)] * 3  # off-topic, closest to an entry
    + [scored(None, ("a", 0.83), 0.82, 0.88)] * 3  # off-topic, closest to the examples
)


def test_judge_counts_right_wrong_clarified_and_rejected() -> None:
    outcome = judge(DATA, Thresholds(answer=0.89, clarify=0.87, margin=0.02))
    assert outcome.answered_right == round(6 / 9, 4)
    assert outcome.answered_wrong == round(1 / 15, 4)
    assert outcome.clarified_right == round(2 / 9, 4)
    assert outcome.oos_rejected == 1.0


def test_best_keeps_off_topic_rejected() -> None:
    thresholds, outcome = best(DATA, min_rejection=1.0)
    assert outcome.oos_rejected == 1.0
    assert thresholds.clarify > 0.86  # below that, the off-topic 0.86 messages would be answered
    assert outcome.answered_right >= round(6 / 9, 4)
