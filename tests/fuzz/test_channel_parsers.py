"""Property-based tests of the channel adapters' parsers and text helpers (no network, no app).

Each property comes from a docstring: what ``parse_update``/``parse_form`` promise (a message,
None, or ``ValueError``), what ``split_text`` promises (pieces under the limit, cut between
words), and that numbered choices typed back on any keyboard find their button.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from channels.base import (
    CALLBACK_KEY,
    CALLBACK_PREFIX,
    callback_key,
    number_choices,
    resolve_choice,
    split_message,
    split_text,
)
from channels.keywords import OPT_IN, OPT_OUT, normalise, opt_command
from channels.messages import Button, InboundMessage, OutboundMessage, Template
from channels.telegram import COMMANDS, callback_answer, parse_update
from channels.whatsapp import MEDIA_KINDS, parse_form
from tests.fuzz.strategies import FUZZ, json_values, telegram_updates, texts

MEDIA_KIND_NAMES = {"image", "voice", "audio", "video", "document", "sticker", "other"}


# --- Telegram -------------------------------------------------------------------------------------
def _sent_message(update: dict[str, Any]) -> dict[str, Any] | None:
    message = update.get("message")
    return message if isinstance(message, dict) else None


@FUZZ
@given(telegram_updates())
def test_a_telegram_update_becomes_the_message_that_was_sent(update: dict[str, Any]) -> None:
    """Real update shapes with any field values: the parsed text, user and id are what was sent,
    commands become intents, and only private chats' messages and button presses count. A value
    past what Telegram sends (a date after the year 9999) may be refused, as documented."""
    try:
        parsed = parse_update(update)
    except ValueError as exc:
        assert "OverflowError" in str(exc) or "wrong type" in str(exc), exc
        return
    if parsed is None:
        return
    assert parsed.channel == "telegram"
    assert parsed.platform_id == str(update["update_id"])  # a retry carries the same id
    query = update.get("callback_query")
    if query is not None:
        assert parsed.text == query["data"]
        assert parsed.user_id == str(query["message"]["chat"]["id"])
        return
    message = _sent_message(update)
    assert message is not None, "only messages and button presses become messages"
    assert message["chat"]["type"] == "private"  # groups and channels are ignored
    assert parsed.user_id == str(message["chat"]["id"])
    sent = (message.get("text") or message.get("caption") or "").strip()
    if sent.startswith("/"):  # "/start@UyumBot <junk>" greets; an unknown command: the menu
        command = sent.split(maxsplit=1)[0].split("@")[0].lower()
        assert parsed.text == COMMANDS.get(command, "/menu")
    else:
        assert parsed.text == sent
    assert parsed.language_hint == message["from"].get("language_code")
    if "photo" in message:
        assert parsed.media[0].ref == message["photo"][-1]["file_id"]  # the largest size
    if "location" in message:
        location = message["location"]
        assert parsed.location == (location["latitude"], location["longitude"])
    assert parsed.text or parsed.media or parsed.location is not None


@FUZZ
@given(telegram_updates())
def test_only_private_messages_and_button_presses_are_kept(update: dict[str, Any]) -> None:
    """Group messages, edits and member updates are ignored (None), never half-parsed."""
    message = _sent_message(update)
    ignored = "callback_query" not in update and (
        message is None or message["chat"]["type"] != "private"
    )
    if ignored:
        assert parse_update(update) is None


@FUZZ
@given(st.dictionaries(st.text(max_size=12), json_values(), max_size=5))
@example({"update_id": "1"})
@example({"update_id": 1.0})
@example({"update_id": None, "message": {}})
def test_a_payload_without_an_integer_update_id_is_a_value_error(payload: dict[str, Any]) -> None:
    """``parse_update`` raises ValueError for anything that is not a Telegram update."""
    assume(not isinstance(payload.get("update_id"), int))
    with pytest.raises(ValueError, match="not a Telegram update"):
        parse_update(payload)


#: payloads with the secret that crash ``parse_update`` with something else than ValueError,
#: so the webhook used to answer 500 (python-telegram-bot's ``de_json`` does not check types)
KNOWN_PARSE_UPDATE_CRASHES = {
    "date out of range (OverflowError)": {
        "update_id": 1,
        "message": {"message_id": 1, "date": 10**20, "chat": {"id": 1, "type": "private"}},
    },
    "text not a string (AttributeError)": {
        "update_id": 1,
        "message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}, "text": 5},
    },
    "message without chat (AttributeError)": {
        "update_id": 1,
        "message": {"message_id": 1, "date": 0, "text": "hi"},
    },
    "button press without from (AttributeError)": {
        "update_id": 1,
        "callback_query": {
            "id": "1",
            "chat_instance": "c",
            "data": "d",
            "message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}},
        },
    },
}


@pytest.mark.parametrize(
    "payload", KNOWN_PARSE_UPDATE_CRASHES.values(), ids=KNOWN_PARSE_UPDATE_CRASHES.keys()
)
def test_known_parse_update_crashes(payload: dict[str, Any]) -> None:
    """Malformed updates are documented to raise ValueError (or be ignored), nothing else."""
    with contextlib.suppress(ValueError):
        parse_update(payload)


@FUZZ
@given(st.dictionaries(st.text(max_size=20), json_values(), max_size=5) | telegram_updates())
def test_callback_answer_only_for_a_callback_query_with_an_id(payload: dict[str, Any]) -> None:
    """The webhook reply answers exactly the pressed button's query, and never raises."""
    answer = callback_answer(payload)
    query = payload.get("callback_query")
    if isinstance(query, dict) and isinstance(query.get("id"), str):
        assert answer == {"method": "answerCallbackQuery", "callback_query_id": query["id"]}
    else:
        assert answer is None


# --- WhatsApp (Twilio form) -----------------------------------------------------------------------
TWILIO_FIELDS = [
    "MessageSid", "SmsMessageSid", "From", "To", "Body", "ButtonPayload", "NumMedia",
    "MediaUrl0", "MediaContentType0", "MediaUrl1", "MediaContentType1", "MediaUrl10",
    "Latitude", "Longitude", "OriginalRepliedMessageSid", "ProfileName",
]  # fmt: skip
form_values = (
    texts
    | st.integers(min_value=-20, max_value=20).map(str)
    | st.sampled_from(["image/jpeg", "audio/ogg", "video/mp4", "application/pdf", "nan", "1e999"])
)
twilio_forms = st.dictionaries(
    st.sampled_from(TWILIO_FIELDS) | st.text(max_size=12), form_values, max_size=12
)


@st.composite
def whatsapp_messages(draw: st.DrawFn) -> dict[str, str]:
    """A form with the two required fields and any others."""
    form = draw(twilio_forms)
    form["MessageSid"] = "SM" + draw(st.text(min_size=1, max_size=34))
    form["From"] = "whatsapp:" + draw(texts)
    return form


@FUZZ
@given(twilio_forms | whatsapp_messages())
def test_any_twilio_form_is_a_message_or_a_value_error(form: dict[str, str]) -> None:
    """``parse_form`` raises ValueError (a 400) for bad forms; nothing else escapes."""
    try:
        parsed = parse_form(form)
    except ValueError:
        return
    assert isinstance(parsed, InboundMessage)


@FUZZ
@given(whatsapp_messages())
def test_a_whatsapp_form_becomes_the_message_that_was_sent(form: dict[str, str]) -> None:
    """Text, sender and message id are what Twilio posted; media are the posted URLs (at most
    10, each of a known kind); a button's payload wins over the body."""
    try:
        parsed = parse_form(form)
    except ValueError as exc:  # only the documented cases
        assert any(word in str(exc) for word in ("NumMedia", "Latitude")), exc
        return
    assert parsed is not None
    assert parsed.channel == "whatsapp"
    assert parsed.user_id == form["From"]
    assert parsed.platform_id == form["MessageSid"]
    assert parsed.text == (form.get("ButtonPayload") or form.get("Body") or "").strip()
    assert len(parsed.media) <= 10
    urls = {form[f"MediaUrl{i}"] for i in range(10) if form.get(f"MediaUrl{i}")}
    for media in parsed.media:
        assert media.ref in urls
        assert media.kind in {*MEDIA_KINDS.values(), "document"}
        assert media.kind in MEDIA_KIND_NAMES
    if parsed.location is not None:
        assert parsed.location == (float(form["Latitude"]), float(form["Longitude"])) or any(
            math.isnan(x) for x in parsed.location
        )
    assert parsed.reply_to == (form.get("OriginalRepliedMessageSid") or None)


@FUZZ
@given(twilio_forms)
def test_a_form_without_sid_or_whatsapp_sender_is_refused(form: dict[str, str]) -> None:
    """MessageSid (or SmsMessageSid) and a ``whatsapp:`` sender are required."""
    has_sid = bool(form.get("MessageSid") or form.get("SmsMessageSid"))
    assume(not has_sid or not form.get("From", "").startswith("whatsapp:"))
    with pytest.raises(ValueError, match=r"not a (Twilio|WhatsApp) message"):
        parse_form(form)


# --- splitting long replies -----------------------------------------------------------------------
limits = st.integers(min_value=1, max_value=300)
long_texts = st.text(
    alphabet=st.sampled_from("ab كيف۳ 👍\n.?!؟।\u200f\t")
    | st.characters(exclude_categories=["Cs"]),
    max_size=1200,
)


@FUZZ
@given(long_texts, limits)
@example("a" * 10_000, 1500)
@example("", 10)
@example(" \n ", 3)
def test_split_text_keeps_every_character_and_respects_the_limit(text: str, limit: int) -> None:
    """Pieces are at most ``limit`` long, never empty (unless the text is blank), trimmed, and
    together hold every non-blank character of the text in order."""
    pieces = split_text(text, limit)
    assert pieces
    assert all(len(p) <= limit for p in pieces)
    assert all(p == p.strip() for p in pieces)
    if text.strip():
        assert all(pieces)
    else:
        assert pieces == [""]
    assert "".join("".join(p.split()) for p in pieces) == "".join(text.split())


words = st.text(
    alphabet=st.characters(exclude_categories=["Cs", "Zs", "Zl", "Zp", "Cc"]), min_size=1
)


@FUZZ
@given(
    st.lists(st.tuples(words, st.sampled_from([" ", "\n", "\n\n", ". ", "؟ ", "। "])), max_size=80),
    st.integers(min_value=9, max_value=200),
)
def test_split_text_cuts_between_words_when_words_are_short(
    parts: list[tuple[str, str]], limit: int
) -> None:
    """ "cut at a paragraph, line, sentence or word": words shorter than a third of the limit
    are never cut in two."""
    assume(all(len(word) < limit // 3 for word, _ in parts))
    text = "".join(word + separator for word, separator in parts)
    pieces = split_text(text, limit)
    assert [w for p in pieces for w in p.split()] == text.split()


buttons = st.builds(Button, texts, texts)
outbound = st.builds(
    OutboundMessage,
    long_texts,
    st.lists(buttons, max_size=4).map(tuple),
    st.none() | st.just("https://example.org/map.png"),
    st.none() | st.builds(Template, st.just("HX" + "0" * 32)),
    st.none() | st.text(min_size=1, max_size=20),
)


@FUZZ
@given(outbound, limits)
def test_split_message_keeps_buttons_and_media_on_the_last_piece(
    message: OutboundMessage, limit: int
) -> None:
    """Every piece fits; the text is split as by ``split_text``; only the last piece carries
    the buttons, media, template and entry."""
    pieces = split_message(message, limit)
    if len(message.text) <= limit:
        assert pieces == [message]
        return
    assert [p.text for p in pieces] == split_text(message.text, limit)
    last = pieces[-1]
    assert (last.buttons, last.media_url, last.template, last.entry) == (
        message.buttons,
        message.media_url,
        message.template,
        message.entry,
    )
    for piece in pieces[:-1]:
        assert piece == OutboundMessage(piece.text)


@FUZZ
@given(outbound)
def test_outbound_message_survives_its_json_round_trip(message: OutboundMessage) -> None:
    """The outbox stores ``as_json()`` and the sender reads it back with ``from_json``."""
    assert OutboundMessage.from_json(message.as_json()) == message


# --- numbered choices, typed back on any keyboard -------------------------------------------------
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


@FUZZ
@given(
    st.lists(buttons, min_size=1, max_size=14),
    st.sampled_from([str.maketrans({}), ARABIC_INDIC, PERSIAN]),
    st.sampled_from(["", " ", "\n", "\t ", "\u00a0"]),
)
def test_a_typed_number_picks_the_button_it_was_shown_with(
    choices: list[Button], digits: dict[int, str], padding: str
) -> None:
    """Numbered as shown (at most 10), each number in ASCII, Arabic-Indic or Persian digits
    (with spaces around) resolves to that button's payload; other numbers to None."""
    shown = number_choices(OutboundMessage("Pick one", tuple(choices)), limit=10)
    assert shown.buttons == ()
    offered = choices[:10]
    for number, button in enumerate(offered, 1):
        assert f"\n{number}. {button.title}".rstrip() in shown.text  # the text is stripped
        typed = padding + str(number).translate(digits) + padding
        assert resolve_choice(typed, offered) == button.payload
    assert resolve_choice("0".translate(digits), offered) is None
    assert resolve_choice(str(len(offered) + 1).translate(digits), offered) is None


@FUZZ
@given(texts, st.lists(buttons, max_size=12))
def test_resolve_choice_of_any_text_is_a_payload_or_none(text: str, choices: list[Button]) -> None:
    """Any text (not only digits) gives one of the offered payloads or None, never raises."""
    assert resolve_choice(text, choices) in {None, *(c.payload for c in choices)}


@pytest.mark.parametrize("typed", ["²", "①", "1²"])
def test_known_resolve_choice_crashes(typed: str) -> None:
    """A superscript or circled digit is not a choice number (None), not a crash."""
    assert resolve_choice(typed, [Button("a", "/a"), Button("b", "/b")]) is None


# --- Telegram callback data -----------------------------------------------------------------------
@FUZZ
@given(texts | st.text(min_size=60, max_size=200) | st.just(CALLBACK_PREFIX + "0" * 24))
def test_callback_key_fits_telegram_and_cannot_be_forged(payload: str) -> None:
    """Keys fit Telegram's 64 bytes; a short payload is itself, any other becomes a hash key
    (so a payload that looks like a key is hashed too)."""
    key = callback_key(payload)
    assert len(key.encode("utf-8")) <= 64
    assert key == callback_key(payload)
    if len(payload.encode("utf-8")) <= 64 and not payload.startswith(CALLBACK_PREFIX):
        assert key == payload
    else:
        assert CALLBACK_KEY.fullmatch(key)


@FUZZ
@given(st.lists(st.text(min_size=65, max_size=120), min_size=2, max_size=20, unique=True))
def test_long_payloads_get_distinct_keys(payloads: list[str]) -> None:
    """Two different long payloads never share a key (the worker looks the key up)."""
    assert len({callback_key(p) for p in payloads}) == len(payloads)


# --- opt-out keywords -----------------------------------------------------------------------------
noise = st.text(
    alphabet=st.sampled_from(" \t\n\u200c\u200f\u200e.!؟?،,؛;:'\"«»()[]*_~-"), max_size=4
)


@FUZZ
@given(texts)
@example("\u200fSTOP!\u200f")
@example("a" * 10_000)
def test_any_text_is_opt_out_opt_in_or_nothing(text: str) -> None:
    """``opt_command`` never raises; ``normalise`` leaves single spaces and no marks."""
    assert opt_command(text) in {"opt_out", "opt_in", None}
    folded = normalise(text)
    assert folded == folded.strip()
    assert "  " not in folded
    assert not {"\u200c", "\u200e", "\u200f"} & set(folded)


@FUZZ
@given(
    st.sampled_from(sorted(OPT_OUT | OPT_IN)),
    noise,
    noise,
    st.sampled_from([str.lower, str.upper, str.title, str]),
)
def test_a_keyword_alone_works_with_any_case_and_punctuation(
    keyword: str, before: str, after: str, case: Any
) -> None:
    """A keyword alone, in any case and wrapped in punctuation or bidi marks, is understood."""
    expected = "opt_out" if keyword in OPT_OUT else "opt_in"
    assert opt_command(before + case(keyword) + after) == expected


@FUZZ
@given(st.sampled_from(sorted(OPT_OUT)), texts)
def test_a_keyword_inside_a_sentence_is_not_a_command(keyword: str, rest: str) -> None:
    """ "please stop sending" goes to the dialogue: only the whole message is a keyword."""
    message = f"{keyword} {rest}"
    assume(normalise(message) not in OPT_OUT | OPT_IN)
    assert opt_command(message) is None


@pytest.mark.parametrize("place", [("nan", "28.9"), ("41.0", "inf"), ("91", "0"), ("0", "-181")])
def test_a_location_off_the_earth_is_refused(place: tuple[str, str]) -> None:
    """NaN or infinity would be stored as JSON PostgreSQL refuses, failing a whole batch."""
    form = {"MessageSid": "SM1", "From": "whatsapp:+905551112233", "Body": ""}
    with pytest.raises(ValueError, match="Latitude"):
        parse_form({**form, "Latitude": place[0], "Longitude": place[1]})
    message = parse_form({**form, "Latitude": "41.0", "Longitude": "28.9"})
    assert message is not None and message.location == (41.0, 28.9)
