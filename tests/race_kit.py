"""Two writers at once, each with its own `Database`: both look for the row already stored before either writes (on
PostgreSQL; SQLite's write lock lets one in at a time, so there the second looks after the first committed)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from verifier.store.db import Database


def race_twice(monkeypatch: Any, module: Any, look: str, url: str, write: Callable[[Database], Any]) -> list[Any]:
    """The answers of `write(db)` run in two threads at once, `module.<look>` made to wait after looking until the
    other thread has looked too (at most 1.5 s). Fails the test if either raised."""
    looked = threading.Barrier(2, timeout=1.5)
    real = getattr(module, look)

    def look_then_wait(*args: Any, **kwargs: Any) -> Any:
        found = real(*args, **kwargs)
        try:
            looked.wait()
        except threading.BrokenBarrierError:
            pass
        return found

    monkeypatch.setattr(module, look, look_then_wait)
    answers: list[Any] = []
    failures: list[BaseException] = []

    def run() -> None:
        db = Database(url)
        try:
            answers.append(write(db))
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)
        finally:
            db.dispose()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures
    return answers
