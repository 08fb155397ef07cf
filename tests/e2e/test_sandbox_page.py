"""The sandbox page in headless Chromium: right-to-left text, buttons that work."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from bench.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture
def page(stack: Stack, tmp_path: Path):  # type: ignore[no-untyped-def]
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is missing; .ci/run installs it")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
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
        page = browser.new_page(viewport={"width": 900, "height": 800})
        page.goto(stack.gateway + "/")
        yield page
        page.screenshot(path=str(stack.data_dir / "sandbox.png"))
        browser.close()


def test_arabic_is_right_to_left_and_buttons_are_clickable(page) -> None:  # type: ignore[no-untyped-def]
    page.fill("#user", "browser1")
    page.dispatch_event("#user", "change")
    page.fill("#text", "مرحبا")
    page.press("#text", "Enter")
    bot = page.locator(".msg.bot").first
    bot.wait_for(timeout=30_000)
    assert "مرحب" in bot.inner_text()
    assert bot.evaluate("el => getComputedStyle(el).direction") == "rtl"
    page.fill("#text", "menu")
    page.press("#text", "Enter")
    buttons = page.locator(".msg.bot").nth(1).locator("button")
    buttons.first.wait_for(timeout=30_000)
    assert buttons.count() == 3
    buttons.nth(2).click()  # the language picker
    languages = page.locator(".msg.bot").nth(2).locator("button")
    languages.first.wait_for(timeout=30_000)
    assert [languages.nth(i).inner_text() for i in range(languages.count())] == [
        "Türkçe",
        "العربية",
        "فارسی",
        "English",
        "پښتو",
    ]
    languages.nth(0).click()
    confirmation = page.locator(".msg.bot").nth(3)
    confirmation.wait_for(timeout=30_000)
    assert "Türkçe" in confirmation.inner_text()
    assert confirmation.evaluate("el => getComputedStyle(el).direction") == "ltr"
