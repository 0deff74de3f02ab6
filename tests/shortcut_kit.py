"""What the tests of the shortcuts in front of Litestar (cases/shortcut.py, web/list_shortcut.py, checks/shortcut.py)
share: an answer as compared (status, headers but the date, body) and Litestar behind a shortcut, counted."""

from __future__ import annotations

from typing import Any

import pytest


def seen(r: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """An answer as two ways of answering are compared: status, headers in order (but the date) and body."""
    return r.status_code, [(k, v) for k, v in r.headers.multi_items() if k != "date"], r.content


def count_litestar(shortcut: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, list[str]]:
    """(Litestar's handler behind `shortcut`, the paths it is asked for from now on through the shortcut)."""
    inner = shortcut._handler
    asked: list[str] = []

    async def counted(scope: Any, receive: Any, send: Any) -> None:
        asked.append(scope["path"])
        await inner(scope, receive, send)

    monkeypatch.setattr(shortcut, "_handler", counted)
    return inner, asked
