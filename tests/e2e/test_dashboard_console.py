"""The dashboard and the cases (complaints) in the operator console (headless Chromium).

Sandbox users ask a question the knowledge base answers (and give it a 👎), ask something out
of scope, and file two complaints through the bot: a fraud report and a confidential one about
a staff member. A supervisor sees the three charts and downloads a CSV, finds the fraud case
but not the confidential one, and moves the fraud case to "in review", which survives a page
reload; the protection focal point sees the confidential case; a plain operator gets 403.
Screenshots go to ``var/test-artifacts/``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from bench.stack import ROOT, SandboxUser, Stack, add_operator
from tests.e2e.console_page import sign_in
from webhooks.console_auth import COOKIE

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
ARTIFACTS = ROOT / "var" / "test-artifacts"
PASSWORD = "dashboard-console-password"
SUPERVISOR, OPERATOR, PROTECTION = "sevgi", "orhan", "pelin"
REFERENCE = re.compile(r"UY-[0-9A-Z]{4}-[0-9A-Z]{4}")
FRAUD_TEXT = "Someone asked me for money to register me for the course."
CONDUCT_TEXT = "A staff member shouted at me and threatened me."


def complain(user: SandboxUser, opening: str, choice: str, text: str, *, replies: int) -> str:
    """File a complaint through the bot (not anonymous); the reference number it gives."""
    user.say(opening)
    user.say(choice)
    user.say(text)
    done = user.say("/deny", expect=replies)
    found: list[str] = REFERENCE.findall(" ".join(r["text"] for r in done))
    assert found, done
    return found[0]


def case_row(page: Any, reference: str) -> Any:
    return page.locator(f'[data-testid="case-row"][data-reference="{reference}"]')


def test_supervisor_sees_charts_and_cases_protection_sees_confidential_operator_refused(
    stack: Stack, browser: Any
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    add_operator(stack, SUPERVISOR, PASSWORD, role="supervisor")
    add_operator(stack, OPERATOR, PASSWORD, role="operator")
    add_operator(stack, PROTECTION, PASSWORD, role="protection")

    # traffic: an answer from the knowledge base with a 👎, and a question it cannot answer
    asker = stack.user()
    answered = asker.say("ikamet izni nasıl uzatılır lütfen")
    assert any(
        b.get("payload") == "/feedback_negative" for r in answered for b in r.get("buttons") or []
    ), answered
    asker.say("/feedback_negative")
    stack.user(channel="whatsapp").say("who will win the football cup")

    fraud = complain(stack.user(), "I want to make a complaint", "4", FRAUD_TEXT, replies=1)
    conduct = complain(
        stack.user(), "I want to complain about a staff member", "2", CONDUCT_TEXT, replies=2
    )

    problems: list[str] = []
    viewport = {"width": 1280, "height": 1000}
    chief_context = browser.new_context(viewport=viewport, accept_downloads=True)
    chief = sign_in(chief_context, stack, SUPERVISOR, PASSWORD, problems)

    # ---- Dashboard ----
    chief.click('[data-testid="nav-dashboard"]')
    chief.wait_for_url(re.compile(r"#dashboard$"))
    bars = {
        name: chief.locator(f'svg[data-testid="{name}"] rect.dash-bar')
        for name in ("chart-messages", "chart-answer-rate", "chart-top-entries")
    }
    for name, locator in bars.items():
        locator.first.wait_for(state="attached", timeout=15_000)
        assert locator.count() > 0, name
        chart = chief.locator(f'svg[data-testid="{name}"]')
        assert chart.get_attribute("role") == "img"
        assert chart.get_attribute("aria-label")
        assert chart.locator("title").count() >= 1
    assert bars["chart-answer-rate"].count() == 3  # answer, clarify, fallback
    expect(chief.locator('svg[data-testid="chart-top-entries"]')).to_contain_text(
        "residence-permit"
    )
    expect(chief.locator('[data-testid="dash-feedback-table"]')).to_contain_text("residence-permit")

    chief.select_option('[data-testid="dash-days"]', "7")
    csv_link = chief.locator('[data-testid="csv-messages_per_day"]')
    expect(csv_link).to_have_attribute("href", "/api/v1/analytics/messages_per_day.csv?days=7")
    assert csv_link.get_attribute("download") is not None
    bars["chart-messages"].first.wait_for(state="attached", timeout=15_000)
    with chief.expect_download() as download_info:
        csv_link.click()
    download = download_info.value
    assert download.failure() is None
    csv_text = Path(download.path()).read_text(encoding="utf-8")
    lines = csv_text.splitlines()
    assert lines[0] == "day,channel,language,messages", csv_text[:300]
    assert len(lines) > 1
    chief.screenshot(path=str(ARTIFACTS / "console-dashboard.png"), full_page=True)

    # ---- Cases ----
    chief.click('[data-testid="nav-complaints"]')
    chief.wait_for_url(re.compile(r"#complaints$"))
    expect(case_row(chief, fraud)).to_have_count(1, timeout=15_000)
    expect(case_row(chief, conduct)).to_have_count(0)  # confidential: the protection role's
    expect(chief.locator('[data-testid="cases-confidential-note"]')).to_be_visible()
    expect(case_row(chief, fraud)).to_contain_text("Fraud")
    expect(case_row(chief, fraud).locator('[data-testid="case-row-status"]')).to_have_text(
        "received"
    )

    case_row(chief, fraud).click()
    chief.wait_for_url(re.compile(rf"#complaints/{fraud}$"))
    text = chief.locator('[data-testid="case-text"]')
    expect(text).to_have_text(FRAUD_TEXT)
    assert text.get_attribute("dir") == "auto"
    expect(chief.locator('[data-testid="case-save"]')).to_be_disabled()  # nothing changed yet
    chief.select_option('[data-testid="case-status"]', "in_review")
    chief.click('[data-testid="case-save"]')
    expect(case_row(chief, fraud).locator('[data-testid="case-row-status"]')).to_have_text(
        "in review"
    )
    expect(chief.locator('[data-testid="case-saved"]')).to_contain_text("in review")

    chief.reload()
    chief.locator("#sign-out").wait_for(timeout=10_000)
    expect(case_row(chief, fraud).locator('[data-testid="case-row-status"]')).to_have_text(
        "in review", timeout=15_000
    )
    expect(chief.locator('[data-testid="case-status"]')).to_have_value("in_review")
    expect(case_row(chief, fraud)).to_have_class(re.compile(r"\bselected\b"))
    chief.select_option('[data-testid="cases-filter-status"]', "received")
    expect(case_row(chief, fraud)).to_have_count(0)  # it is in review now
    chief.select_option('[data-testid="cases-filter-status"]', "in_review")
    expect(case_row(chief, fraud)).to_have_count(1)
    chief.screenshot(path=str(ARTIFACTS / "console-cases-supervisor.png"))

    # ---- The protection focal point reads the confidential report ----
    focal_context = browser.new_context(viewport=viewport)
    focal = sign_in(focal_context, stack, PROTECTION, PASSWORD, problems)
    focal.click('[data-testid="nav-complaints"]')
    expect(case_row(focal, conduct)).to_have_count(1, timeout=15_000)
    expect(case_row(focal, conduct).locator('[data-testid="case-confidential"]')).to_have_text(
        "confidential"
    )
    expect(focal.locator('[data-testid="cases-confidential-note"]')).to_be_hidden()
    case_row(focal, conduct).click()
    expect(focal.locator('[data-testid="case-text"]')).to_have_text(CONDUCT_TEXT)
    focal.screenshot(path=str(ARTIFACTS / "console-cases-protection.png"))

    # ---- A plain operator may not read complaints (nor the dashboard) ----
    login = httpx.post(
        f"{stack.gateway}/api/v1/auth/login",
        json={"username": OPERATOR, "password": PASSWORD},
        timeout=30,
    )
    assert login.status_code == 200, login.text
    cookie = {"Cookie": f"{COOKIE}={login.cookies[COOKIE]}"}
    refused = httpx.get(f"{stack.gateway}/api/v1/complaints", headers=cookie, timeout=30)
    assert refused.status_code == 403, refused.text
    assert refused.json().get("error")
    me = httpx.get(f"{stack.gateway}/api/v1/auth/me", headers=cookie, timeout=30)
    assert me.status_code == 200  # the cookie itself is good
    dashboard = httpx.get(f"{stack.gateway}/api/v1/analytics/summary", headers=cookie, timeout=30)
    assert dashboard.status_code == 403, dashboard.text

    assert problems == []
    chief_context.close()
    focal_context.close()
