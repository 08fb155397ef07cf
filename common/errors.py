"""One error hierarchy for the whole project.

Every error we raise on purpose is a :class:`UyumError`. It carries a one-line
message and, where there is one, a hint telling the person what to do. The CLI
prints ``error: <message>`` and ``hint: <hint>`` and exits non-zero; the gateway
turns it into a 4xx/5xx JSON body; nothing prints a traceback wall at a person.
Messages never contain personal data (no phone numbers, no message text).
"""

from __future__ import annotations


class UyumError(Exception):
    """Base of every error raised on purpose by Uyum."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message

    def one_line(self) -> str:
        """The message and hint as printed by the CLI."""
        if self.hint:
            return f"error: {self.message}\nhint: {self.hint}"
        return f"error: {self.message}"


class ConfigError(UyumError):
    """Settings are missing, malformed or unsafe for the chosen environment."""

    exit_code = 2


class SetupError(UyumError):
    """A runtime, model or index that the command needs is not there."""

    exit_code = 3


class ServiceError(UyumError):
    """A process or service did not start, did not answer, or died."""

    exit_code = 4


class PortInUseError(ServiceError):
    """A port we must listen on is taken by another process."""


class UpstreamError(ServiceError):
    """A call to another component (Rasa, the action server, a platform API) failed."""


class ContentError(UyumError):
    """Knowledge-base content is invalid (file, entry and field are named)."""

    exit_code = 5


class IndexStateError(UyumError):
    """The knowledge-base index is missing, corrupt or does not match the content."""

    exit_code = 6


class ChannelError(UyumError):
    """A channel adapter could not parse a payload or deliver a message."""


class BadRequestError(UyumError):
    """Input from outside (a webhook, an API call, a CLI argument) is invalid."""

    exit_code = 2

    status_code = 400


class ForbiddenError(BadRequestError):
    """The request may not do this: bad signature or secret, or a role that lacks the right."""

    status_code = 403


class NotFoundError(BadRequestError):
    """What the request asks for does not exist here (e.g. a channel not configured)."""

    status_code = 404


class PayloadTooLargeError(BadRequestError):
    """A request body is over the configured limit."""

    status_code = 413


class UnauthorizedError(BadRequestError):
    """The request has no valid console session (never signed in, expired, signed out)."""

    status_code = 401


class ConflictError(BadRequestError):
    """The request is valid but the state changed under it (e.g. someone claimed it first)."""

    status_code = 409


class TooManyRequestsError(BadRequestError):
    """Too many attempts in a short time (e.g. failed sign-ins)."""

    status_code = 429
