"""Hypothesis strategies shared by the fuzz tests: hostile text, JSON, Telegram-shaped updates."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st

#: modest and reproducible: the whole folder runs in well under a minute on a busy machine.
#: ``database=None``: no ``.hypothesis/`` folder in the working tree (it is not git-ignored).
FUZZ = settings(max_examples=60, deadline=None, database=None)

#: text the way users and attackers send it: any code point (surrogates excluded, they cannot
#: be encoded), biased towards the scripts, marks and controls this project meets
HOSTILE_CHARACTERS = (
    "\x00\x01\x1b\x7f\u0085\u00a0\u200b\u200c\u200d\u200e\u200f\u202a\u202e\u2066\u2069"
    "\ufeff\ufffd\n\r\t \u3000"
    "٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹²①߁"
    "ıİşŞğĞçÇöÖüÜ"
    "كيفاسجلبدورةلغةتركيةپچژگ"
    "👍🏽🇹🇷👨‍👩‍👧"
    ".!?؟،؛…"
)
texts = st.text(
    alphabet=st.characters(exclude_categories=["Cs"]) | st.sampled_from(HOSTILE_CHARACTERS),
    max_size=300,
)

json_leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()  # NaN and infinities too: Python's json.loads accepts them
    | texts
)


def json_values(leaves: st.SearchStrategy[Any] = json_leaves) -> st.SearchStrategy[Any]:
    """Any JSON document (nested lists and objects) built from ``leaves``."""
    return st.recursive(
        leaves,
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(
                st.text(max_size=12) | st.sampled_from(TELEGRAM_KEYS), children, max_size=4
            )
        ),
        max_leaves=12,
    )


# --- Telegram updates, as the Bot API sends them ----------------------------------------------
_USER = {"id": 42, "is_bot": False, "first_name": "Amal", "language_code": "ar"}
_CHAT = {"id": 5001, "first_name": "Amal", "type": "private"}
_DATE = 1767225600


def _message(**fields: Any) -> dict[str, Any]:
    return {"message_id": 7, "from": dict(_USER), "chat": dict(_CHAT), "date": _DATE, **fields}


TELEGRAM_UPDATES: list[dict[str, Any]] = [
    {"update_id": 1, "message": _message(text="كيف أجدد الإقامة؟")},
    {"update_id": 2, "message": _message(text="/start@UyumBot ref-123")},
    {
        "update_id": 3,
        "message": _message(
            caption="  passport  ",
            photo=[
                {"file_id": "small", "file_unique_id": "s", "width": 90, "height": 90},
                {"file_id": "large", "file_unique_id": "l", "width": 800, "height": 800},
            ],
        ),
    },
    {
        "update_id": 4,
        "message": _message(
            voice={"file_id": "v1", "file_unique_id": "v", "duration": 3, "mime_type": "audio/ogg"}
        ),
    },
    {"update_id": 5, "message": _message(location={"latitude": 41.0, "longitude": 29.0})},
    {
        "update_id": 6,
        "message": _message(
            text="yes", reply_to_message=_message(message_id=6, text="Did this help?")
        ),
    },
    {
        "update_id": 7,
        "message": _message(
            document={"file_id": "d1", "file_unique_id": "d", "mime_type": "application/pdf"}
        ),
    },
    {
        "update_id": 8,
        "callback_query": {
            "id": "cb-1",
            "from": dict(_USER),
            "chat_instance": "ci",
            "data": "#b:0123456789abcdef01234567",
            "message": _message(text="Pick one"),
        },
    },
    {"update_id": 9, "message": _message(text="hi", chat={"id": -100, "type": "group"})},
    {"update_id": 10, "edited_message": _message(text="edited")},
    {"update_id": 11, "my_chat_member": {"chat": dict(_CHAT), "date": _DATE}},
]


def _walk(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path (dict keys and list indexes) below ``node``."""
    if isinstance(node, dict | list):
        items: Any = node.items() if isinstance(node, dict) else enumerate(node)
        for key, child in list(items):
            yield (*path, key)
            yield from _walk(child, (*path, key))


#: the field names of real updates, so that random JSON objects often use them
TELEGRAM_KEYS = sorted(
    {p[-1] for update in TELEGRAM_UPDATES for p in _walk(update) if isinstance(p[-1], str)}
)


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        node = node[key]
    return node


def same_type_leaves(key: str, value: Any) -> st.SearchStrategy[Any]:
    """A value of the type the Bot API gives this field (dates within the Unix era)."""
    if key == "date":
        return st.integers(min_value=0, max_value=2**32)
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, int):
        return st.integers(min_value=-(2**53), max_value=2**53)
    if isinstance(value, float):
        return st.floats(min_value=-180, max_value=180)
    if isinstance(value, str):
        return texts
    return st.just(copy.deepcopy(value))


@st.composite
def telegram_updates(
    draw: st.DrawFn,
    replacement: Callable[[str, Any], st.SearchStrategy[Any]] = same_type_leaves,
    max_changes: int = 4,
    allow_delete: bool = False,
) -> dict[str, Any]:
    """A real update shape with a few fields replaced (by ``replacement``) or, with
    ``allow_delete``, removed."""
    update: dict[str, Any] = copy.deepcopy(draw(st.sampled_from(TELEGRAM_UPDATES)))
    for _ in range(draw(st.integers(min_value=0, max_value=max_changes))):
        paths = [p for p in _walk(update) if p != ("update_id",)]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent, key = _get(update, path[:-1]), path[-1]
        if isinstance(parent, dict) and allow_delete and draw(st.booleans()):
            del parent[key]
        else:
            parent[key] = draw(replacement(str(key), parent[key]))
    return update


def any_json_leaves(_key: str, _value: Any) -> st.SearchStrategy[Any]:
    """Any JSON at all in place of the field (python-telegram-bot checks no types)."""
    return json_values()
