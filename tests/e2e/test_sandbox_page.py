"""The sandbox page in headless Chromium: right-to-left text, buttons that work."""

from __future__ import annotations

import pytest

from bench.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


@pytest.fixture
def page(stack: Stack, browser):  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 900, "height": 800})
    page.goto(stack.gateway + "/")
    yield page
    page.screenshot(path=str(stack.data_dir / "sandbox.png"))


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
