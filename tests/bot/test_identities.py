"""Pseudonyms and encrypted addresses: stable, unreadable without the key, rotatable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.identities import Identities, new_data_key
from bot.settings import Settings
from common.errors import ConfigError

NUMBER = "whatsapp:+905551234567"


def test_a_pseudonym_finds_the_user_again_but_does_not_show_the_number() -> None:
    ids = Identities("k" * 32, [new_data_key()])
    ref = ids.pseudonym("whatsapp", NUMBER)
    assert ref == ids.pseudonym("whatsapp", NUMBER)
    assert "905551234567" not in ref and len(ref) == 64
    assert ref != ids.pseudonym("telegram", NUMBER)  # the channel is part of it
    assert ref != Identities("other-key-" * 4, [new_data_key()]).pseudonym("whatsapp", NUMBER)


def test_an_address_is_encrypted_and_survives_key_rotation() -> None:
    old, new = new_data_key(), new_data_key()
    before = Identities("k" * 32, [old])
    sealed = before.seal(NUMBER)
    assert "905551234567" not in sealed and before.open(sealed) == NUMBER
    rotated = Identities("k" * 32, [new, old])  # the new key first, the old one still listed
    assert rotated.open(sealed) == NUMBER
    resealed = rotated.reseal(sealed)
    assert Identities("k" * 32, [new]).open(resealed) == NUMBER  # the old key can go
    with pytest.raises(ConfigError, match="cannot be decrypted"):
        Identities("k" * 32, [new]).open(sealed)


def test_bad_keys_are_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not a Fernet key"):
        Identities("k" * 32, ["not-a-key"])
    with pytest.raises(ConfigError, match="too short"):
        Identities("short", [new_data_key()])


def test_without_configured_keys_they_are_made_once_and_kept_private(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, _env_file=None)
    first = settings.identities().pseudonym("telegram", "42")
    assert (
        Settings(data_dir=tmp_path, _env_file=None).identities().pseudonym("telegram", "42")
        == first
    )
    kept = tmp_path / "secret-keys.json"
    assert kept.stat().st_mode & 0o077 == 0
    assert set(json.loads(kept.read_text())) == {"pseudonym_key", "data_keys"}
    assert list(tmp_path.iterdir()) == [kept]  # no draft left behind
