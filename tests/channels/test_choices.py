"""Buttons as numbered choices (WhatsApp) and digits typed back, on any keyboard."""

from __future__ import annotations

import pytest

from channels.base import number_choices, resolve_choice
from channels.messages import Button, OutboundMessage
from channels.sandbox import Mailbox, SandboxChannel

BUTTONS = (Button("Türkçe", '/choose_language{"language":"tr"}'), Button("فارسی", "/fa"))


def test_number_choices_renders_a_list() -> None:
    rendered = number_choices(OutboundMessage("Pick one", BUTTONS))
    assert rendered.text == "Pick one\n\n1. Türkçe\n2. فارسی"
    assert rendered.buttons == ()
    assert number_choices(OutboundMessage("plain")).text == "plain"


@pytest.mark.parametrize(
    ("typed", "payload"),
    [("1", BUTTONS[0].payload), (" 2 ", "/fa"), ("٢", "/fa"), ("۱", BUTTONS[0].payload)],
)
def test_digits_resolve_to_payloads(typed: str, payload: str) -> None:
    assert resolve_choice(typed, list(BUTTONS)) == payload


@pytest.mark.parametrize("typed", ["0", "3", "12", "one", "", "-1"])
def test_other_text_is_left_alone(typed: str) -> None:
    assert resolve_choice(typed, list(BUTTONS)) is None


async def test_sandbox_adapters_render_by_platform_rules() -> None:
    mailbox = Mailbox()
    telegram, whatsapp = SandboxChannel("telegram", mailbox), SandboxChannel("whatsapp", mailbox)
    message = OutboundMessage("Pick one", BUTTONS)
    for adapter in (telegram, whatsapp):
        for piece in adapter.render(message):
            assert (await adapter.send("u1", piece)).ok
    [tg] = mailbox.after("sandbox-telegram:u1", 0)
    [wa] = mailbox.after("sandbox-whatsapp:u1", 0)
    assert tg.message.buttons == BUTTONS
    assert wa.message.buttons == () and "2. فارسی" in wa.message.text
    assert await mailbox.wait("sandbox-telegram:u1", tg.id, 0.05) == []
    with pytest.raises(ValueError, match="unknown sandbox flavour"):
        SandboxChannel("fax", mailbox)
