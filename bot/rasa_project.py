"""The Rasa project: its files, training only when they changed, and run-time config files."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import yaml

from bot.settings import PROJECT_ROOT, Settings
from common.errors import SetupError

CONFIG = PROJECT_ROOT / "config.yml"
DOMAIN = PROJECT_ROOT / "bot" / "rasa" / "domain"
STORIES = PROJECT_ROOT / "bot" / "rasa" / "data"
NLU_DATA = PROJECT_ROOT / "nlu" / "data"
COMPONENTS = PROJECT_ROOT / "nlu"


def training_inputs() -> list[Path]:
    files = [
        CONFIG,
        *DOMAIN.glob("*.yml"),
        *STORIES.rglob("*.yml"),
        *NLU_DATA.glob("*.yml"),
        *COMPONENTS.glob("*.py"),
    ]
    return sorted(p for p in files if p.is_file())


def inputs_digest() -> str:
    digest = hashlib.sha256()
    for path in training_inputs():
        digest.update(path.relative_to(PROJECT_ROOT).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def model_path(settings: Settings) -> Path:
    return settings.rasa_model_dir / f"uyum-{inputs_digest()}.tar.gz"


def rasa_executable(settings: Settings) -> Path:
    exe = settings.rasa_venv / "bin" / "rasa"
    if not exe.exists():
        raise SetupError(
            f"the Rasa runtime is not installed ({exe} is missing)",
            hint="run `make run` (or scripts/setup.sh), which creates .venv-rasa with Python 3.10",
        )
    return exe


def rasa_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(PROJECT_ROOT),
        TF_CPP_MIN_LOG_LEVEL="2",
        RASA_TELEMETRY_ENABLED="false",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
        OMP_NUM_THREADS="2",
        PYTHONWARNINGS="ignore",
    )
    return env


def rasa_command(settings: Settings, *args: str) -> list[str]:
    """``rasa ARGS...`` in the Rasa runtime."""
    return [str(rasa_executable(settings)), *args]


def project_args() -> list[str]:
    """The pipeline, domain and data of this project, as `rasa train` and `rasa data` take them."""
    return ["--config", str(CONFIG), "--domain", str(DOMAIN), "--data", str(NLU_DATA), str(STORIES)]


def validate(settings: Settings) -> None:
    """``rasa data validate --fail-on-warnings`` over the whole Rasa project."""
    command = rasa_command(settings, "data", "validate", "--fail-on-warnings", *project_args())
    result = subprocess.run(
        command,
        env=rasa_env(settings),
        cwd=PROJECT_ROOT,
        check=False,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        problems = [
            line
            for line in (result.stdout + result.stderr).splitlines()
            if "UserWarning" in line or "ERROR" in line or "error" in line.lower()[:20]
        ]
        print("\n".join(problems[-20:]), file=sys.stderr)
        raise SetupError(
            "the Rasa project has warnings or errors (listed above)",
            hint="fix the domain, rules or NLU data they name",
        )
    print("[validate] rasa data validate: no warnings", flush=True)


def check_model(path: Path) -> None:
    """Refuse a missing or corrupt model before Rasa tries to load it."""
    if not path.exists():
        raise SetupError(f"no trained Rasa model at {path}", hint="run `uyum train`")
    try:
        with tarfile.open(path, "r:gz") as archive:
            if not any(m.name.endswith("metadata.json") for m in archive.getmembers()):
                raise tarfile.TarError("no metadata.json")
    except (tarfile.TarError, OSError, EOFError):
        raise SetupError(
            f"the Rasa model {path.name} is corrupt", hint="run `uyum train --force`"
        ) from None


def train(settings: Settings, *, force: bool = False) -> Path:
    """Train when the inputs changed (or ``force``); Rasa's own progress is streamed."""
    target = model_path(settings)
    if target.exists() and not force:
        try:
            check_model(target)
            print(f"[train] model up to date: {target.name}", flush=True)
            return target
        except SetupError:
            print(f"[train] {target.name} is corrupt; training again", flush=True)
    settings.rasa_model_dir.mkdir(parents=True, exist_ok=True)
    print(f"[train] training {target.name} from {len(training_inputs())} files", flush=True)
    command = rasa_command(
        settings,
        "train",
        *project_args(),
        "--out",
        str(settings.rasa_model_dir),
        "--fixed-model-name",
        target.name[: -len(".tar.gz")],
    )
    result = subprocess.run(command, env=rasa_env(settings), cwd=PROJECT_ROOT, check=False)
    if result.returncode != 0 or not target.exists():
        raise SetupError(
            f"Rasa training failed (exit {result.returncode})",
            hint="read the lines above; `rasa data validate` in .venv-rasa names data errors",
        )
    _prune_models(settings.rasa_model_dir, keep=target)
    print(f"[train] done: {target.name}", flush=True)
    return target


def _prune_models(folder: Path, keep: Path, keep_count: int = 3) -> None:
    models = sorted(folder.glob("uyum-*.tar.gz"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in models[keep_count:]:
        if old != keep:
            old.unlink(missing_ok=True)


def write_runtime_files(settings: Settings) -> tuple[Path, Path]:
    """endpoints.yml and credentials.yml for this run, under the data folder."""
    folder = settings.data_dir / "rasa"
    folder.mkdir(parents=True, exist_ok=True)
    # the embedded profile: Rasa's SQLTrackerStore on a SQLite file next to the app database
    tracker = {"type": "SQL", "dialect": "sqlite", "db": str(settings.rasa_tracker_path)}
    endpoints = {
        "action_endpoint": {"url": f"{settings.actions_url}/webhook"},
        "tracker_store": tracker,
    }
    credentials = {"rest": None}
    endpoints_file, credentials_file = folder / "endpoints.yml", folder / "credentials.yml"
    endpoints_file.write_text(yaml.safe_dump(endpoints), encoding="utf-8")
    credentials_file.write_text(yaml.safe_dump(credentials), encoding="utf-8")
    return endpoints_file, credentials_file


def run_command(settings: Settings, model: Path) -> list[str]:
    endpoints, credentials = write_runtime_files(settings)
    return rasa_command(
        settings,
        "run",
        "--enable-api",
        f"--auth-token={settings.ensure_rasa_token()}",  # one argument, even if it starts with -
        "--interface",
        settings.host,
        "--port",
        str(settings.rasa_port),
        "--model",
        str(model),
        "--endpoints",
        str(endpoints),
        "--credentials",
        str(credentials),
        "--response-timeout",
        "60",
    )
