"""Every route refuses a caller without credentials (401/403), except a short, explained list.

The routes come from the app itself (the OpenAPI paths and ``app.routes``, so one left out of
the schema is found too): a route added without a session check makes this test fail until it
gets one, or an entry in ``webhooks.app.PUBLIC_ROUTES`` that says why it is public.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from starlette.routing import Mount

from webhooks.app import PUBLIC_MOUNTS, PUBLIC_ROUTES


def _example(schema: dict[str, Any]) -> str:
    """A plausible value for a path parameter: its enum's first value, else 1."""
    return str(schema["enum"][0]) if "enum" in schema else "1"


def _fill(path: str, parameters: list[dict[str, Any]]) -> str:
    for parameter in parameters:
        if parameter.get("in") == "path":
            value = _example(parameter.get("schema", {}))
            path = path.replace("{" + parameter["name"] + "}", value)
    assert "{" not in path, f"a path parameter is not filled in {path}"
    return path


def schema_routes(app: FastAPI) -> dict[tuple[str, str], str]:
    """Every documented (method, path) and a URL that reaches it."""
    found: dict[tuple[str, str], str] = {}
    for path, item in app.openapi()["paths"].items():
        shared = item.get("parameters", [])
        for method, operation in item.items():
            if method == "parameters":
                continue
            found[(method.upper(), path)] = _fill(path, shared + operation.get("parameters", []))
    return found


def app_routes(app: FastAPI) -> tuple[dict[tuple[str, str], str], set[str]]:
    """Every (method, path) in ``app.routes``, documented or not, and the mounted prefixes."""
    found: dict[tuple[str, str], str] = {}
    mounts: set[str] = set()
    for route in iter_route_contexts(app.routes):  # included routers flattened, with prefixes
        path = route.path or ""
        if isinstance(route.original_route, Mount):
            mounts.add(path)
            continue
        assert path and route.methods, f"a route of an unknown kind: {route!r}"
        for method in route.methods:
            if method != "HEAD":  # Starlette adds HEAD to GET; it is the same endpoint
                found[(method, path)] = re.sub(r"\{[^}]*\}", "1", path)
    return found, mounts


def test_every_route_needs_credentials_unless_listed(client: TestClient) -> None:
    """Called with no cookie, token, secret or signature, every route not in PUBLIC_ROUTES is
    401/403 (not 2xx, and not a 404 or 422 that would hide whether the check is there)."""
    app: FastAPI = client.app  # type: ignore[assignment]
    documented = schema_routes(app)
    routes, mounts = app_routes(app)
    assert set(documented) <= set(routes), "the schema names a route the app does not have"
    assert mounts == set(PUBLIC_MOUNTS), f"mounted apps changed: {mounts}"
    stale = set(PUBLIC_ROUTES) - set(routes)
    assert not stale, f"PUBLIC_ROUTES lists routes that no longer exist: {stale}"

    refused_or_not = {}
    for (method, path), url in sorted({**routes, **documented}.items()):
        if (method, path) in PUBLIC_ROUTES:
            continue
        client.cookies.clear()
        response = client.request(method, url)
        refused_or_not[f"{method} {path}"] = response.status_code
    open_routes = {route: s for route, s in refused_or_not.items() if s not in (401, 403)}
    assert not open_routes, f"routes that let a caller without credentials in: {open_routes}"
    assert len(refused_or_not) >= 30  # the API is really walked, not skipped


def test_a_forged_or_expired_token_is_refused_too(client: TestClient) -> None:
    """A made-up session cookie or bearer token is no better than none."""
    app: FastAPI = client.app  # type: ignore[assignment]
    routes, _ = app_routes(app)
    checked = [(m, p, u) for (m, p), u in sorted(routes.items()) if (m, p) not in PUBLIC_ROUTES]
    for method, path, url in checked:
        for headers in ({"Cookie": "uyum_session=forged"}, {"Authorization": "Bearer forged"}):
            client.cookies.clear()
            status = client.request(method, url, headers=headers).status_code
            assert status in (401, 403), (method, path, headers, status)


def test_a_route_left_out_of_the_schema_is_still_checked(client: TestClient) -> None:
    """``include_in_schema=False`` hides a route from /openapi.json, not from this test."""
    app: FastAPI = client.app  # type: ignore[assignment]

    @app.get("/hidden-export", include_in_schema=False)
    async def hidden_export() -> dict[str, str]:
        return {"secret": "data"}

    routes, _ = app_routes(app)
    assert ("GET", "/hidden-export") in routes
    assert ("GET", "/hidden-export") not in schema_routes(app)
    assert client.get("/hidden-export").status_code == 200  # so the main test would fail
