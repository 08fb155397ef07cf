"""Bad set-up and dying processes: one-line errors with a hint, non-zero exit, no traceback."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import Settings
from bot.supervisor import Child, supervise
from common.errors import ServiceError
from tests.cli import ROOT, assert_one_line_error, run_uyum


def test_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_uyum(["run"], {"UYUM_GATEWAY_PORT": str(port), "UYUM_DATA_DIR": str(tmp_path)})
    assert_one_line_error(result, f"port {port} (gateway) on 127.0.0.1 is already in use")


def test_corrupt_model(tmp_path: Path) -> None:
    from bot import rasa_project

    models = tmp_path / "models"
    models.mkdir()
    settings = Settings(rasa_model_dir=models)
    rasa_project.model_path(settings).write_bytes(b"not a tar.gz at all")
    result = run_uyum(
        ["run", "--no-train"],
        {"UYUM_RASA_MODEL_DIR": str(models), "UYUM_DATA_DIR": str(tmp_path / "var")},
    )
    assert_one_line_error(result, "is corrupt")
    assert result.returncode == 3


def test_invalid_setting_is_named(tmp_path: Path) -> None:
    result = run_uyum(["kb", "check"], {"UYUM_GATEWAY_PORT": "eighty"})
    assert_one_line_error(result, "invalid setting gateway_port")


def test_missing_python310_stops_setup_with_a_clear_message(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "cat", "sha256sum", "cut", "dirname", "grep", "head", "env"):
        found = subprocess.run(
            ["bash", "-c", f"command -v {tool}"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if found:
            (bin_dir / tool).symlink_to(found)
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "setup.sh")],
        cwd=ROOT,
        env={"PATH": str(bin_dir), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip().startswith("error: Python 3.10 is required for the Rasa runtime")
    assert len(result.stderr.strip().splitlines()) == 1


def _server(port: int) -> list[str]:
    return [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_supervisor_stops_everything_when_one_child_dies(tmp_path: Path) -> None:
    ports = [_free_port(), _free_port()]
    children = [
        Child(f"c{i}", _server(p), f"http://127.0.0.1:{p}/", p, dict(os.environ))
        for i, p in enumerate(ports)
    ]
    task = asyncio.create_task(supervise(Settings(startup_timeout=30), children))
    for _ in range(100):
        await asyncio.sleep(0.2)
        if all(c.process for c in children):
            break
    await asyncio.sleep(2.0)
    assert children[0].process is not None
    children[0].process.kill()  # one process dies
    assert await asyncio.wait_for(task, 30) == 1
    assert all(c.process is not None and c.process.returncode is not None for c in children)


async def test_supervisor_reports_a_child_that_cannot_start() -> None:
    port = _free_port()
    child = Child(
        "rasa",
        [sys.executable, "-c", "import sys; sys.exit(3)"],
        f"http://127.0.0.1:{port}/",
        port,
        dict(os.environ),
    )
    with pytest.raises(ServiceError, match="rasa exited with code 3 while starting"):
        await supervise(Settings(startup_timeout=20), [child])
