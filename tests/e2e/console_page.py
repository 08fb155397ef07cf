"""Signing in to the operator console in Chromium, for the browser tests."""

from __future__ import annotations

from typing import Any

from bench.stack import Stack


def sign_in(context: Any, stack: Stack, username: str, password: str, problems: list[str]) -> Any:
    """A console page signed in as ``username``; page errors and CSP violations go to
    ``problems`` (the tests assert it stays empty); confirm dialogs are accepted."""
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # e.g. "Send … now?"
    page.on("pageerror", lambda error: problems.append(f"{username}: {error}"))
    page.on(
        "console",
        lambda message: (
            problems.append(f"{username}: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    page.goto(stack.gateway + "/console")
    page.fill("#username", username)
    page.fill("#password", password)
    page.press("#password", "Enter")
    page.locator("#sign-out").wait_for(timeout=10_000)
    return page
