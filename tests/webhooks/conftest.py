"""The gateway app in-process with Telegram and WhatsApp configured (no Rasa needed)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.settings import Settings
from webhooks.app import create_app

PUBLIC = "https://uyum.example.org"
TELEGRAM_SECRET = "tg-secret-0123456789abcdef"
TWILIO_TOKEN = "twilio-token-0123456789"


def gateway_settings(data_dir: Path, **overrides: Any) -> Settings:
    """The gateway's settings for in-process tests: both channels configured, no platform
    reachable, Rasa nowhere unless ``overrides`` says where."""
    values: dict[str, Any] = {
        "env": "test",
        "data_dir": data_dir,
        "rasa_port": 9,  # nothing listens: the worker's Rasa calls fail, webhooks must not care
        "public_base_url": PUBLIC,
        "telegram_bot_token": "123:abc",
        "telegram_webhook_secret": TELEGRAM_SECRET,
        "telegram_api_base_url": "http://127.0.0.1:9",
        "twilio_account_sid": "AC" + "1" * 32,
        "twilio_auth_token": TWILIO_TOKEN,
        "twilio_whatsapp_from": "+14155238886",
        "twilio_api_base_url": "http://127.0.0.1:9",
        "max_webhook_bytes": 4096,
        "rasa_token": "t" * 20,
        "gateway_worker": False,  # keep the stored messages where the test can see them
    }
    return Settings(**{**values, **overrides})


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return gateway_settings(tmp_path)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client
