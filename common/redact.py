"""Personal data taken out of free text before it is kept for analysis.

Unanswered questions and feedback are stored so editors can see what content is missing;
they must not carry who asked. ``redact`` replaces e-mail addresses, IBANs, Turkish and
foreign identity numbers (11 digits; foreigners' start with 99) and phone numbers (7 or
more digits, with or without +, spaces, dots, dashes or brackets) by a tag. ``\\d`` matches
Arabic-Indic and Persian digits too, so "۰۵۳۲ ۱۲۳ ۴۵ ۶۷" is caught like "0532 123 45 67".
Short numbers (fees, years, counts, street numbers) and dates stay: they carry the question.
"""

from __future__ import annotations

import re

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?\d){10,30}\b", re.IGNORECASE)
# a run of digits with the separators people type inside phone numbers and ids
NUMBER = re.compile(r"(?<![\w])[+]?\(?\d(?:[\d\s().\-/]*\d)?")
MIN_DIGITS = 7
# dates and year ranges look like numbers but carry the question ("01.02.2025", "2024-2025");
# so do ISO dates, with the hour that follows them in a log line ("2026-12-02 06:01:57")
KEEP = re.compile(
    r"\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{4}\s*[-/]\s*\d{4}|(?:19|20)\d{2}-\d{2}-\d{2}(?:[ T]\d{2})?"
)
# a message's text as other programs log it (Rasa's error events: "text": "...", also in the
# locals of a traceback), quoted JSON- or Python-style
MESSAGE_FIELD = re.compile(
    r"""(["'](?:text|user_message)["']\s*:\s*)(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"""
)


def _number(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = [c for c in text if c.isdigit()]
    if len(digits) < MIN_DIGITS or KEEP.fullmatch(text.strip()):
        return text
    compact = "".join(str(int(c)) for c in digits)
    if len(compact) == 11 and compact[0] != "0" and not text.lstrip().startswith("+"):
        return "[id]"
    # keep the spacing around it, so "call 0532 123 45 67 today" reads "call [phone] today"
    trailing = text[len(text.rstrip()) :]
    return "[phone]" + trailing


def redact(text: str) -> str:
    """``text`` with e-mails, IBANs, identity numbers and phone numbers replaced by tags."""
    text = EMAIL.sub("[email]", text)
    text = IBAN.sub("[iban]", text)
    return NUMBER.sub(_number, text)


def redact_log(line: str) -> str:
    """A log line with message texts and then personal data taken out."""
    return redact(MESSAGE_FIELD.sub(r'\1"[message]"', line))
