"""Schemathesis over the gateway's OpenAPI schema, in-process: no request gets a 5xx.

Every documented operation gets valid and invalid requests generated from its schema, first
without credentials, then signed in as an admin (session cookie and CSRF header, like the
console). Rasa and the action server are a stub that answers 200, so a 503 "Rasa is down"
is not what is being tested: any 5xx here is a bug.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import Case as AnyOperationCase
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi

from bot.settings import Settings
from tests.webhooks.conftest import gateway_settings as webhook_settings
from tests.webhooks.test_operator_api import PASSWORD, add, new_handover
from webhooks.app import create_app
from webhooks.console_auth import COOKIE, CSRF_HEADER

Case = AnyOperationCase[Any]
ADMIN = "fuzz-admin"  # a name the generated sign-ins will not guess (they are throttled per name)
#: 25 examples per operation and kind of run: about two minutes for the whole schema
PER_OPERATION = settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _asgi(app: FastAPI) -> asgi.ASGIApp:
    """The app as schemathesis's client types it (Starlette's scope types are wider)."""
    return cast(asgi.ASGIApp, app)


class _Upstream(BaseHTTPRequestHandler):
    """Rasa and the action server: 200 with a loaded model for every call."""

    def _ok(self) -> None:
        body = json.dumps({"model_file": "models/stub.tar.gz", "ok": True}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _ok  # noqa: N815 (http.server's names)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture(scope="module")
def upstream() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def gateway_settings(tmp_path_factory: pytest.TempPathFactory, upstream: int) -> Settings:
    """As tests/webhooks/conftest.py, with Rasa and the action server answering."""
    return webhook_settings(
        tmp_path_factory.mktemp("openapi"), rasa_port=upstream, actions_port=upstream
    )


@pytest.fixture(scope="module")
def gateway(gateway_settings: Settings) -> Iterator[FastAPI]:
    """The app, started once by schemathesis's ASGI client (its lifespan runs there)."""
    app = create_app(gateway_settings)
    yield app
    asgi.shutdown_lifespans()  # stop the app's tasks and close its database


@pytest.fixture(scope="module")
def gateway_schema(gateway: FastAPI) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", gateway)


class Admin:
    """A signed-in admin's cookie and CSRF header; signs in again after a generated logout."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self._headers: dict[str, str] | None = None

    def headers(self) -> dict[str, str]:
        if self._headers is None:
            with asgi.get_client(_asgi(self.app)) as http:
                response = http.post(
                    "/api/v1/auth/login", json={"username": ADMIN, "password": PASSWORD}
                )
            assert response.status_code == 200, response.text
            body = response.json()
            self._headers = {"Cookie": f"{COOKIE}={body['token']}", CSRF_HEADER: body["csrf_token"]}
        return self._headers

    def forget(self) -> None:
        self._headers = None


@pytest.fixture(scope="module")
def admin(
    gateway: FastAPI, gateway_schema: schemathesis.BaseSchema, gateway_settings: Settings
) -> Admin:
    """An admin, and a handover (id 1) for the generated paths to find."""
    add(gateway_settings, ADMIN, role="admin")  # the schema's loading ran the migrations
    new_handover(gateway_settings, "fuzz-user")
    return Admin(gateway)


def _timeout(case: Case) -> float:
    """Seconds to wait: the live-updates stream never ends, it is cut after a few seconds."""
    return 3.0 if case.path.endswith("/events") else 120.0


def _operations() -> list[str]:
    """Every documented operation ("POST /api/v1/auth/login"), read without starting the app.

    Each is its own test, so a failure and its time are named by the operation. (Not
    ``schemathesis.pytest.from_fixture``: with pytest 9 it fails on ``node._nodeid``.)
    """
    app = create_app(Settings(env="test", data_dir=Path("unused"), rasa_token="t" * 20))
    paths = app.openapi()["paths"]
    return sorted(f"{method.upper()} {path}" for path, item in paths.items() for method in item)


OPERATIONS = _operations()


def cases(schema: schemathesis.BaseSchema, label: str) -> st.SearchStrategy[Case]:
    """Requests for one operation: valid ones and ones that break its schema."""
    operation = schema.find_operation_by_label(label)
    assert operation is not None, label
    return st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    ).map(_short_poll)


def _short_poll(case: Case) -> Case:
    """The sandbox's long poll waits up to ``wait`` (25) seconds for a reply that never comes
    here: a valid wait becomes 0.01 s (invalid ones still go as generated)."""
    wait = (case.query or {}).get("wait")
    if case.query is not None and isinstance(wait, int | float) and 0 < wait <= 25:
        case.query["wait"] = 0.01
    return case


@pytest.mark.parametrize("label", OPERATIONS)
def test_no_operation_answers_5xx_without_credentials(
    gateway_schema: schemathesis.BaseSchema, label: str
) -> None:
    """Unauthenticated requests, valid or not, get a 2xx or 4xx (mostly 401), never a 5xx."""

    @PER_OPERATION
    @given(case=cases(gateway_schema, label))
    def run(case: Case) -> None:
        case.call_and_validate(checks=[not_a_server_error], timeout=_timeout(case))

    run()


@pytest.mark.parametrize("label", OPERATIONS)
def test_no_operation_answers_5xx_to_an_admin(
    gateway_schema: schemathesis.BaseSchema, admin: Admin, label: str
) -> None:
    """Signed in as an admin, every operation's generated requests get a 2xx or 4xx."""

    @PER_OPERATION
    @given(case=cases(gateway_schema, label))
    def run(case: Case) -> None:
        case.call_and_validate(
            headers=admin.headers(), checks=[not_a_server_error], timeout=_timeout(case)
        )
        if case.path.endswith("/auth/logout"):
            admin.forget()  # the session just ended: sign in again for the next example

    run()


def test_the_admin_run_is_really_signed_in(
    gateway: FastAPI, gateway_schema: schemathesis.BaseSchema, admin: Admin
) -> None:
    """The admin headers pass the session and CSRF checks (else the admin run proves little)."""
    with asgi.get_client(_asgi(gateway)) as http:
        me = http.get("/api/v1/auth/me", headers=admin.headers())
        assert me.status_code == 200 and me.json()["operator"]["role"] == "admin"
        assert http.get("/api/v1/auth/me").status_code == 401


def test_the_schema_is_the_apps(gateway: FastAPI, gateway_schema: schemathesis.BaseSchema) -> None:
    """Schemathesis sees every documented operation (none dropped while loading)."""
    documented = {
        (method.upper(), path)
        for path, item in gateway.openapi()["paths"].items()
        for method in item
    }
    operations = [result.ok() for result in gateway_schema.get_all_operations()]  # type: ignore[union-attr]
    loaded = {(operation.method.upper(), operation.path) for operation in operations}
    assert loaded == documented
