"""Writers at once. Two, each with its own `Database`: both look for the row already stored before either writes (on
PostgreSQL; SQLite's write lock lets one in at a time, so there the second looks after the first committed). Several,
released together (`at_once`). Two, one holding what it locked while the other starts (`first_then_other`). And
whether the audit log's head is locked by someone else (`head_free`)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import psycopg

from verifier.domain.errors import InvalidState, ValidationFailed
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


def at_once(count: int, work: Callable[[int], Any]) -> list[BaseException]:
    """`work(0)` … `work(count - 1)` in threads released together (waited for up to 120 s each): what they raised."""
    start = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            start.wait()
            work(n)
        except BaseException as exc:  # noqa: BLE001 - returned to the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return errors


def head_free(database_url: str) -> bool:
    """Whether another connection can lock the audit log's head at once (PostgreSQL)."""
    with psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://")) as other:
        try:
            other.execute("SELECT 1 FROM audit_head WHERE id = 1 FOR UPDATE NOWAIT")
            return True
        except psycopg.errors.LockNotAvailable:
            return False


def first_then_other(url: str, first: str, locked: threading.Event, acts: dict[str, Callable[[Any], Any]],
                     refusals: tuple[type[Exception], ...] = (InvalidState,)) -> tuple[list[str], list[str]]:
    """The two `acts` (name → what it does in a session), each in its own thread, `Database` and transaction: `first`
    at once, the other once `locked` is set (by `first` holding what it locked; at most 10 s). The names of those that
    committed and the refusals (`refusals`, as "name: detail", a ValidationFailed's errors as its detail). Fails the
    test if one raised anything else."""
    done: list[str] = []
    refused: list[str] = []
    errors: list[BaseException] = []

    def act(what: str) -> None:
        if what != first:
            assert locked.wait(10)
        db = Database(url)
        try:
            with db.begin() as session:
                acts[what](session)
            done.append(what)
        except refusals as exc:
            refused.append(f"{what}: {exc.errors if isinstance(exc, ValidationFailed) else exc.detail}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            db.dispose()

    threads = [threading.Thread(target=act, args=(w,)) for w in acts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == [], errors
    return done, refused
