"""Announcements in the operator console (headless Chromium), from subscribing to delivery.

Sandbox users subscribe through the bot (one then opts out with the Turkish STOP word); an
editor writes an announcement in the console, sees the API refuse it without its Arabic text,
then sees the dry run; a supervisor, in another browser context, approves it and sends it now;
the progress bar fills, and the subscribers get the text in their own language.
Screenshots go to ``var/test-artifacts/``.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import Any

import pytest
from playwright.sync_api import expect

from bench.stack import ROOT, SandboxUser, Stack, add_operator
from bot import texts
from tests.e2e.console_page import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
ARTIFACTS = ROOT / "var" / "test-artifacts"
PASSWORD = "broadcast-console-password"
EDITOR, SUPERVISOR = "ebru", "kemal"
TOPIC = "work"  # no other end-to-end test subscribes anyone to it: its audience is this test's
TEXTS = {
    "tr": "İş arayanlar için CV atölyesi salı 14:00'te.",
    "ar": "ورشة كتابة السيرة الذاتية للباحثين عن عمل يوم الثلاثاء الساعة 14:00.",
    "fa": "کارگاه نوشتن رزومه برای جویندگان کار سه‌شنبه ساعت 14:00.",
    "en": "CV workshop for job seekers on Tuesday at 14:00.",
}


def subscribe(user: SandboxUser, hello: str, ask: str, lang: str) -> None:
    """Greet the bot, ask for announcements and press the topic's button in the menu."""
    user.say(hello)
    menu = user.say(ask)[-1]
    [button] = [b for b in menu["buttons"] if b["payload"] == f'/subscribe{{"topic":"{TOPIC}"}}']
    [done] = user.say(button["payload"])
    assert done["text"] == texts.text("subscribed", lang, topics=button["title"])


def announcement(user: SandboxUser, *, expect_count: int) -> list[str]:
    """The announcement texts among what the user received since the last look."""
    got = user.replies(expect=expect_count, timeout=30 if expect_count else 0.5)
    return [m["text"] for m in got if m["text"] in TEXTS.values()]


def test_editor_writes_supervisor_approves_and_sends_subscribers_get_their_language(
    stack: Stack, browser: Any
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    add_operator(stack, EDITOR, PASSWORD, role="editor")
    add_operator(stack, SUPERVISOR, PASSWORD, role="supervisor")
    turkish, arabic, stopped = stack.user(), stack.user(), stack.user()
    subscribe(turkish, "merhaba", "duyurulara abone olmak istiyorum", "tr")
    subscribe(arabic, "مرحبا", "اشتراك بالإعلانات", "ar")
    subscribe(stopped, "merhaba", "duyurulara abone olmak istiyorum", "tr")
    [opted_out] = stopped.say("DUR")  # the Turkish STOP: no more announcements at all
    assert opted_out["text"] == texts.text("opted_out", "tr")

    problems: list[str] = []
    viewport = {"width": 1280, "height": 1000}
    editor_context = browser.new_context(viewport=viewport)
    editor = sign_in(editor_context, stack, EDITOR, PASSWORD, problems)
    editor.click('[data-testid="nav-broadcasts"]')
    editor.click('[data-testid="broadcast-new"]')
    assert editor.get_attribute('[data-testid="broadcast-text-ar"]', "dir") == "rtl"
    assert editor.get_attribute('[data-testid="broadcast-text-fa"]', "dir") == "rtl"
    assert editor.get_attribute('[data-testid="broadcast-text-tr"]', "dir") == "auto"
    editor.fill('[data-testid="broadcast-title"]', "CV atölyesi")
    editor.check(f'[data-testid="broadcast-topic"][data-topic="{TOPIC}"]')
    for lang in ("tr", "fa", "en"):  # the Arabic text left out
        editor.fill(f'[data-testid="broadcast-text-{lang}"]', TEXTS[lang])
    later = dt.datetime.now() + dt.timedelta(days=2)  # approving it does not send it yet
    editor.fill('[data-testid="broadcast-send-at"]', later.strftime("%Y-%m-%dT%H:%M"))
    editor.click('[data-testid="broadcast-submit"]')
    expect(editor.locator('[data-testid="broadcast-form-error"]')).to_contain_text("no text in ar")
    assert editor.locator('[data-testid="broadcast-form"]').is_visible()  # nothing was saved

    editor.fill('[data-testid="broadcast-text-ar"]', TEXTS["ar"])
    editor.click('[data-testid="broadcast-submit"]')
    editor.wait_for_url(re.compile(r"#b\d+$"))
    broadcast_id = int(editor.url.rsplit("#b", 1)[1])
    expect(editor.locator('[data-testid="broadcast-state"]')).to_have_text("draft")
    expect(editor.locator('[data-testid="dry-run-recipients"]')).to_have_text("2")
    for lang in ("tr", "ar"):
        expect(
            editor.locator(f'[data-testid="dry-run-language"][data-key="{lang}"]')
        ).to_contain_text(": 1")
    arabic_preview = editor.locator('[data-testid="broadcast-preview"][data-lang="ar"] p')
    expect(arabic_preview).to_have_text(TEXTS["ar"])
    assert arabic_preview.get_attribute("dir") == "auto"
    expect(editor.locator('[data-testid="broadcast-created-by"]')).to_have_text(EDITOR.title())
    # an editor may cancel their draft, but approving is for a second person
    expect(editor.locator('[data-testid="broadcast-cancel"]')).to_have_count(1)
    expect(editor.locator('[data-testid="broadcast-approve"]')).to_have_count(0)
    expect(editor.locator('[data-testid="broadcast-send-now"]')).to_have_count(0)
    editor.screenshot(path=str(ARTIFACTS / "console-broadcast-draft.png"))

    chief_context = browser.new_context(viewport=viewport)
    chief = sign_in(chief_context, stack, SUPERVISOR, PASSWORD, problems)
    chief.click('[data-testid="nav-broadcasts"]')
    chief.click(f'[data-testid="broadcast-row"][data-id="{broadcast_id}"] a')
    expect(chief.locator('[data-testid="dry-run-recipients"]')).to_have_text("2")
    chief.click('[data-testid="broadcast-approve"]')
    expect(chief.locator('[data-testid="broadcast-state"]')).to_have_text("approved")
    expect(chief.locator('[data-testid="broadcast-approved-by"]')).to_have_text(SUPERVISOR.title())
    assert announcement(turkish, expect_count=0) == []  # its send time is two days away
    chief.click('[data-testid="broadcast-send-now"]')

    progress = chief.locator('[data-testid="broadcast-progress"]')
    progress.wait_for(timeout=30_000)
    chief.wait_for_function(
        """() => {
            const bar = document.querySelector('[data-testid="broadcast-progress"]');
            return bar && bar.max === 2 && bar.value === 2;
        }""",
        timeout=30_000,
    )
    assert progress.get_attribute("aria-valuenow") == progress.get_attribute("aria-valuemax")
    expect(chief.locator('[data-testid="broadcast-state"]')).to_have_text("sent", timeout=30_000)
    counts = {
        key: int(chief.inner_text(f'[data-testid="broadcast-count-{key}"]'))
        for key in ("sent", "delivered", "read", "failed", "skipped")
    }
    assert counts["sent"] + counts["delivered"] + counts["read"] == 2, counts
    assert counts["failed"] == counts["skipped"] == 0
    assert chief.locator('[data-testid="broadcast-chart"] rect.bc-bar').count() == 5
    chief.screenshot(path=str(ARTIFACTS / "console-broadcast-sent.png"))

    assert announcement(turkish, expect_count=1) == [TEXTS["tr"]]
    assert announcement(arabic, expect_count=1) == [TEXTS["ar"]]
    time.sleep(1)
    assert announcement(stopped, expect_count=0) == []  # it said DUR
    assert problems == []
    editor_context.close()
    chief_context.close()
