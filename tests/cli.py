"""Running the `uyum` command the way a person does, and what its errors must look like."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UYUM = str(ROOT / ".venv" / "bin" / "uyum")


def run_uyum(
    args: list[str], env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("UYUM_")}
    return subprocess.run(
        [UYUM, *args],
        env={**clean, **env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], expected: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stderr.startswith("error: "), result.stderr
    assert expected in result.stderr.splitlines()[0]
    assert result.stderr.splitlines()[1].startswith("hint: ")
