"""The whole stack for end-to-end tests (started once per session), with the platforms faked.

Telegram and WhatsApp are configured and point at local fake Bot API / Twilio servers; the
sandbox works as well. Rasa, the action server and the gateway are the real ones.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from bench.fake_platforms import FakePlatforms
from bench.platform_users import TelegramUser, WhatsAppUser
from bench.stack import Stack, start_stack, stop_stack

TELEGRAM_SECRET = "e2e-telegram-webhook-secret"
# personal data that tests/e2e/test_privacy.py writes as a user; no log line may carry it
PLANTED = {
    "email": "zeynep.canary@example.org",
    "turkish id": "10000000146",
    "foreign id": "99912345678",
    "phone": "0532 987 65 43",
    "iban": "TR330006100519786457841326",
}
CANARY = "marmalade-orchid-canary"  # a word of a message body, which no log line may carry


def personal_data_in(log: str, extra: dict[str, str] | None = None) -> list[str]:
    """What of the planted data (and ``extra``) the log holds, written or as bare digits."""
    digits = re.sub(r"\D", "", log)
    planted = {**PLANTED, **(extra or {}), "a message body": CANARY}
    return [
        kind
        for kind, value in planted.items()
        if value in log or (len(bare := re.sub(r"\D", "", value)) >= 7 and bare in digits)
    ]


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def platforms() -> Iterator[FakePlatforms]:
    fakes = FakePlatforms()
    yield fakes
    fakes.stop()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, platforms: FakePlatforms) -> Iterator[Stack]:
    env = {
        **platforms.env(),
        "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
        "UYUM_TELEGRAM_CHAT_INTERVAL": "0.2",
        "TWILIO_QUICK_REPLIES": "true",
        "UYUM_OFFICE_HOURS": "mon-sun 00:00-23:59",  # the test may run at any hour
    }
    running = start_stack(tmp_path_factory.mktemp("stack"), env)
    yield running
    code = stop_stack(running)
    assert code == 0, running.logs()[-3000:]
    assert personal_data_in(running.logs()) == []  # the whole run's log, every process


@pytest.fixture
def telegram_user(stack: Stack, platforms: FakePlatforms) -> TelegramUser:
    return TelegramUser(platforms, stack.gateway, TELEGRAM_SECRET)


@pytest.fixture
def whatsapp_user(stack: Stack, platforms: FakePlatforms) -> WhatsAppUser:
    return WhatsAppUser(platforms, stack.gateway)


@pytest.fixture
def browser() -> Iterator[Any]:
    """Headless Chromium from Debian's package, driven by Playwright."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is missing; .ci/run installs it")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield chromium
        chromium.close()
