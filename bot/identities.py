"""Who a user is, stored as little as possible.

A platform's user id (a WhatsApp phone number, a Telegram chat id) is personal data. The
database keys conversations by a *pseudonym*: a keyed hash (HMAC-SHA256) of channel and id,
which finds the same conversation again when the user writes but cannot be turned back
into the number without the key. The raw id is needed for one thing only, sending, and is
kept for that *encrypted* (Fernet: AES-128-CBC with an HMAC), under keys that can be
rotated: the first key encrypts, every key decrypts, and ``uyum data rotate-keys``
re-encrypts everything under the first one.
"""

from __future__ import annotations

import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from common.errors import ConfigError


class Identities:
    """Pseudonyms and encrypted addresses under the configured keys."""

    def __init__(self, pseudonym_key: str, data_keys: list[str]) -> None:
        if len(pseudonym_key) < 16:
            raise ConfigError(
                "the pseudonym key is too short", hint="set UYUM_PSEUDONYM_KEY (32+ characters)"
            )
        if not data_keys:
            raise ConfigError("no data encryption key", hint="set UYUM_DATA_KEYS")
        try:
            self._fernet = MultiFernet([Fernet(key.encode()) for key in data_keys])
        except ValueError:
            raise ConfigError(
                "a data encryption key is not a Fernet key",
                hint="make one with `uyum data new-key`; UYUM_DATA_KEYS lists them, newest first",
            ) from None
        self._pseudonym_key = pseudonym_key.encode()

    def pseudonym(self, channel: str, user_id: str) -> str:
        """The stable, non-reversible reference of a user on a channel (64 hex digits)."""
        message = f"{channel}\x1f{user_id}".encode()
        return hmac.new(self._pseudonym_key, message, hashlib.sha256).hexdigest()

    def seal(self, user_id: str) -> str:
        """The raw id, encrypted under the newest key."""
        return self._fernet.encrypt(user_id.encode()).decode()

    def open(self, sealed: str) -> str:
        """The raw id back, under whichever configured key sealed it."""
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise ConfigError(
                "a stored address cannot be decrypted with the configured keys",
                hint="UYUM_DATA_KEYS must still list the key it was encrypted with",
            ) from None

    def reseal(self, sealed: str) -> str:
        """The same id, re-encrypted under the newest key (for key rotation)."""
        return self._fernet.rotate(sealed.encode()).decode()


def new_data_key() -> str:
    """A fresh Fernet key (url-safe base64 of 32 random bytes)."""
    return Fernet.generate_key().decode()
