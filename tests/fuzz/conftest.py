"""The gateway in-process with both channels configured: the fixtures of tests/webhooks."""

from __future__ import annotations

from tests.webhooks.conftest import client, settings

__all__ = ["client", "settings"]
