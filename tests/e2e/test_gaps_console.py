"""The content gaps in the operator console (headless Chromium).

Fresh sandbox users ask questions the knowledge base cannot answer: three paraphrases of
opening a bank account and two of using a foreign driving licence, in English. An editor
opens "Content gaps" for English, finds the bank group (three questions), drafts an entry
from it and sees the YAML skeleton with a download link; a plain operator gets the 403
message in the section, not a broken page. Screenshots go to ``var/test-artifacts/``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from bench.stack import ROOT, Stack, add_operator
from tests.e2e.console_page import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
ARTIFACTS = ROOT / "var" / "test-artifacts"
PASSWORD = "gaps-console-password"
EDITOR, OPERATOR = "gaps-editor", "gaps-operator"
BANK = (
    "How can I open a bank account?",
    "which bank lets foreigners open an account",
    "opening a bank account as a refugee",
)
LICENCE = (
    "Can I use my Syrian driving licence in Turkey?",
    "how to convert my foreign driver's license",
)


def test_editor_drafts_an_entry_from_a_content_gap_operator_refused(
    stack: Stack, browser: Any
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    add_operator(stack, EDITOR, PASSWORD, role="editor", languages="en")
    add_operator(stack, OPERATOR, PASSWORD, role="operator")

    # unanswered questions, each from a new user (two fallbacks in a row hand a user over)
    for question in (*BANK, *LICENCE):
        replies = stack.user().say(question)
        assert replies, question

    problems: list[str] = []
    viewport = {"width": 1280, "height": 1000}
    editor_context = browser.new_context(viewport=viewport, accept_downloads=True)
    editor = sign_in(editor_context, stack, EDITOR, PASSWORD, problems)

    editor.click('[data-testid="nav-gaps"]')
    editor.wait_for_url(re.compile(r"#gaps$"))
    expect(editor.locator('[data-testid="nav-gaps"]')).to_have_attribute("aria-current", "page")
    expect(editor.locator('[data-testid="gaps-days"]')).to_have_value("90")
    clusters = editor.locator('[data-testid="gaps-list"] [data-testid="gap-cluster"]')
    expect(clusters.first).to_be_visible(timeout=60_000)  # every language, the first time
    editor.select_option('[data-testid="gaps-language"]', "en")
    expect(editor.locator('[data-testid="gaps-list"]')).not_to_have_attribute(
        "aria-busy", "true", timeout=60_000
    )
    bank = clusters.filter(has_text=re.compile(r"\bbank\b", re.IGNORECASE))
    expect(bank).to_have_count(1, timeout=60_000)
    expect(bank.locator('[data-testid="gap-size"]')).to_have_text("3 questions")
    # the bot either had no answer or asked "did you mean": a readable label, not the code
    expect(bank.locator('[data-testid="gap-kinds"]')).to_have_text(
        re.compile(r"^((no answer|asked to clarify): \d+\s*)+$")
    )
    examples = bank.locator('[data-testid="gap-examples"] li')
    expect(examples).to_have_count(3)
    assert examples.first.get_attribute("dir") == "auto"
    assert examples.first.get_attribute("lang") == "en"
    assert bank.locator("svg.gap-size-bar rect[data-count='3']").count() == 1
    number = bank.get_attribute("data-number")
    assert number and number.isdigit()
    # nothing but English listed; the licence questions are not in the bank group
    for language in clusters.evaluate_all("items => items.map(i => i.dataset.language)"):
        assert language == "en"
    expect(examples.filter(has_text=re.compile(r"licen[cs]e", re.IGNORECASE))).to_have_count(0)

    bank.locator('[data-testid="gap-draft"]').click()
    yaml_box = bank.locator('[data-testid="gap-draft-yaml"]')
    expect(yaml_box).to_be_visible(timeout=60_000)
    expect(yaml_box).to_have_value(re.compile(r"^id: draft-", re.MULTILINE))
    expect(yaml_box).to_have_value(re.compile(r"^translations:", re.MULTILINE))
    assert yaml_box.get_attribute("readonly") is not None
    expect(bank).to_contain_text("Never guess a fee, date or phone number.")
    download_link = bank.locator('[data-testid="gap-draft-download"]')
    filename = download_link.get_attribute("download")
    assert filename and filename.startswith("draft-") and filename.endswith(".yml"), filename
    assert (download_link.get_attribute("href") or "").startswith("blob:")
    with editor.expect_download() as download_info:
        download_link.click()
    download = download_info.value
    assert download.failure() is None
    assert download.suggested_filename == filename
    saved = Path(download.path()).read_text(encoding="utf-8")
    assert saved == yaml_box.input_value()
    editor.screenshot(path=str(ARTIFACTS / "console-gaps-editor.png"), full_page=True)

    # a phone: one column, the drafted cluster still readable
    editor.set_viewport_size({"width": 390, "height": 844})
    expect(bank).to_be_visible()
    box = bank.bounding_box()
    assert box is not None and box["width"] <= 390
    editor.screenshot(path=str(ARTIFACTS / "console-gaps-phone.png"))

    # ---- A plain operator may not read the content gaps: said in the section ----
    operator_context = browser.new_context(viewport=viewport)
    operator = sign_in(operator_context, stack, OPERATOR, PASSWORD, problems)
    operator.click('[data-testid="nav-gaps"]')
    operator.wait_for_url(re.compile(r"#gaps$"))
    denied = operator.locator('[data-testid="gaps-denied"]')
    expect(denied).to_be_visible(timeout=15_000)
    expect(denied).to_contain_text("editor")
    expect(operator.locator('[data-testid="gap-cluster"]')).to_have_count(0)
    expect(operator.locator('[data-testid="gaps-empty"]')).to_be_hidden()
    expect(operator.locator("#error-banner")).to_be_hidden()
    operator.screenshot(path=str(ARTIFACTS / "console-gaps-operator.png"))

    assert problems == []
    editor_context.close()
    operator_context.close()
