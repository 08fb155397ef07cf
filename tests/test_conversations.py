"""Rasa conversation tests (tests/rasa/*.yml) against the trained model, in every language."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bot import rasa_project
from bot.settings import Settings

pytestmark = pytest.mark.e2e
STORIES = Path(__file__).parent / "rasa"


def test_conversation_stories_pass(tmp_path: Path) -> None:
    settings = Settings()
    model = rasa_project.model_path(settings)
    rasa_project.check_model(model)  # `make test` trains before pytest runs
    result = subprocess.run(
        rasa_project.rasa_command(
            settings,
            "test",
            "core",
            "--stories",
            str(STORIES),
            "--model",
            str(model),
            "--out",
            str(tmp_path),
            "--fail-on-prediction-errors",
            "--no-plot",
        ),
        env=rasa_project.rasa_env(settings),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    failed = tmp_path / "failed_test_stories.yml"
    details = failed.read_text("utf-8") if failed.exists() else result.stdout[-3000:]
    assert result.returncode == 0, details
