"""The one settings object: safe defaults, production refuses placeholder secrets."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

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
    ok = Settings(
        env="production",
        admin_token="a" * 20,
        telegram_secret_token="b" * 20,
        rasa_token="c" * 20,
        _env_file=None,
    )
    assert ok.env == "production"


def test_fallback_order() -> None:
    settings = Settings(_env_file=None)
    assert settings.fallback_order("ps") == ["ps", "fa", "en", "tr"]
    assert settings.fallback_order("tr") == ["tr", "en"]
