"""The one settings object: safe defaults, production refuses placeholder secrets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from bot import rasa_project
from bot.identities import new_data_key
from bot.settings import Settings


def test_development_defaults_need_no_secrets() -> None:
    settings = Settings(_env_file=None)
    assert settings.profile == "embedded"
    assert settings.app_database_url.startswith("sqlite+aiosqlite:///")


def test_production_refuses_placeholders() -> None:
    with pytest.raises(ValidationError, match="UYUM_ADMIN_TOKEN"):
        Settings(
            env="production",
            admin_token="change-me",
            telegram_secret_token="x" * 20,
            rasa_token="y" * 20,
            _env_file=None,
        )
    keys: dict[str, Any] = {"pseudonym_key": "p" * 32, "data_keys": new_data_key()}
    with pytest.raises(ValidationError, match="UYUM_PSEUDONYM_KEY, UYUM_DATA_KEYS"):
        Settings(env="production", admin_token="a" * 20, rasa_token="c" * 20, _env_file=None)
    ok = Settings(
        env="production", admin_token="a" * 20, rasa_token="c" * 20, _env_file=None, **keys
    )
    assert ok.env == "production"
    with pytest.raises(ValidationError, match="UYUM_TELEGRAM_WEBHOOK_SECRET"):
        Settings(
            env="production",
            **keys,
            admin_token="a" * 20,
            rasa_token="c" * 20,
            telegram_bot_token="1:abc",
            telegram_webhook_secret="change-me",
            _env_file=None,
        )


def test_platform_variables_work_with_and_without_the_prefix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:bare")
    monkeypatch.setenv("UYUM_TWILIO_ACCOUNT_SID", "AC-prefixed")
    settings = Settings(_env_file=None)
    assert settings.telegram_bot_token.get_secret_value() == "1:bare"
    assert settings.twilio_account_sid == "AC-prefixed"
    assert settings.telegram_enabled and not settings.whatsapp_enabled


def test_every_setting_is_documented_in_env_example() -> None:
    documented = (Path(__file__).parents[2] / ".env.example").read_text(encoding="utf-8")
    missing = [n for n in Settings.model_fields if f"UYUM_{n.upper()}=" not in documented]
    assert missing == []


def test_fallback_order() -> None:
    settings = Settings(_env_file=None)
    assert settings.fallback_order("ps") == ["ps", "fa", "en", "tr"]
    assert settings.fallback_order("tr") == ["tr", "en"]


def test_rasa_gets_its_token_as_one_argument_whatever_it_starts_with(tmp_path: Path) -> None:
    settings = Settings(env="test", data_dir=tmp_path, rasa_token="-starts-with-a-dash-0123")
    command = rasa_project.run_command(settings, tmp_path / "model.tar.gz")
    assert "--auth-token=-starts-with-a-dash-0123" in command
    made = Settings(env="test", data_dir=tmp_path / "other").ensure_rasa_token()
    assert len(made) >= 32 and not made.startswith("-")
