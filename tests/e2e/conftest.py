"""The whole stack for end-to-end tests (started once per session)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench.stack import Stack, start_stack, stop_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = start_stack(tmp_path_factory.mktemp("stack"))
    yield running
    code = stop_stack(running)
    assert code == 0, running.logs()[-3000:]
