"""A spy on the statements queued on a PostgreSQL pipeline (store/pgwire.py, store/pgwrite.py), for tests that count
or look into what one request or transaction sends."""

from __future__ import annotations

from typing import Any

import pytest

from verifier.store import pgwire, pgwrite


def statements_sent(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The SQL of every statement queued on a pipeline from now on (the COMMIT and its setting are sent apart)."""
    sent: list[bytes] = []
    real = pgwire.send

    def send(pg: Any, w: Any, statement: Any, *a: Any) -> None:
        sent.append(statement if type(statement) is bytes else statement.sql)
        real(pg, w, statement, *a)

    monkeypatch.setattr(pgwire, "send", send)
    monkeypatch.setattr(pgwrite, "send", send)
    return sent
