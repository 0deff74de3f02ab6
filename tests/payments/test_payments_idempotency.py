"""Idempotency-Key: the first answer is stored with the write; a repeat changes nothing; a reused key is refused."""

from __future__ import annotations

import threading
import time

import msgspec
import pytest
from sqlalchemy import func, select

from verifier.audit import log as audit
from verifier.audit.models import AuditEntry
from verifier.domain.errors import InvalidState, ValidationFailed
from verifier.idempotency import IdempotencyKey, run_once


def _write(subject: str, calls: list[int], *, fail: bool = False, pause: float = 0.0):  # type: ignore[no-untyped-def]
    def run(session):  # type: ignore[no-untyped-def]
        calls.append(1)
        audit.append(session, actor="u1", role="finance", action="test.write", subject=subject, payload={"n": len(calls)})
        if pause:
            time.sleep(pause)
        if fail:
            raise InvalidState("refused after writing")
        return {"subject": subject, "n": len(calls)}
    return run


def _count(db, subject: str) -> int:  # type: ignore[no-untyped-def]
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.subject == subject))


def test_a_repeat_gets_the_stored_answer_and_runs_nothing(db) -> None:  # type: ignore[no-untyped-def]
    calls: list[int] = []
    args = dict(user_id="u1", key="k-1", method_path="POST /api/x", body={"a": 1}, status_code=201)
    first = run_once(db, run=_write("s1", calls), **args)
    second = run_once(db, run=_write("s1", calls), **args)
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.content == second.content == msgspec.json.encode({"subject": "s1", "n": 1})
    assert second.headers.get("Idempotent-Replayed") == "true" and "Idempotent-Replayed" not in first.headers
    assert len(calls) == 1 and _count(db, "s1") == 1


def test_the_same_key_for_another_request_is_refused(db) -> None:  # type: ignore[no-untyped-def]
    calls: list[int] = []
    run_once(db, user_id="u1", key="k", method_path="POST /api/x", body={"a": 1}, run=_write("s", calls))
    for path, body in (("POST /api/x", {"a": 2}), ("POST /api/y", {"a": 1}), ("POST /api/x", b"raw")):
        with pytest.raises(ValidationFailed, match="此幂等键已用于另一个请求"):
            run_once(db, user_id="u1", key="k", method_path=path, body=body, run=_write("s", calls))
    # Keys belong to their user: another user's identical key is a new request.
    run_once(db, user_id="u2", key="k", method_path="POST /api/x", body={"a": 1}, run=_write("s", calls))
    assert len(calls) == 2 and _count(db, "s") == 2


def test_a_refused_request_stores_nothing_and_may_be_retried(db) -> None:  # type: ignore[no-untyped-def]
    calls: list[int] = []
    args = dict(user_id="u1", key="retry", method_path="POST /api/x", body=None)
    with pytest.raises(InvalidState):
        run_once(db, run=_write("r", calls, fail=True), **args)
    assert _count(db, "r") == 0  # the write rolled back with the refusal
    with db.read() as s:
        assert s.get(IdempotencyKey, ("u1", "retry")) is None
    assert run_once(db, run=_write("r", calls), **args).status_code == 200
    assert _count(db, "r") == 1


def test_without_a_key_every_request_runs(db) -> None:  # type: ignore[no-untyped-def]
    calls: list[int] = []
    for _ in range(2):
        run_once(db, user_id="u1", key=None, method_path="POST /api/x", body=None, run=_write("nk", calls))
    assert _count(db, "nk") == 2


def test_two_requests_with_one_key_at_the_same_moment_have_one_effect(db, database_url) -> None:  # type: ignore[no-untyped-def]
    from verifier.store.db import Database

    other = Database(database_url)  # as another server process would
    calls: list[int] = []
    answers: list[tuple[int, bytes]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def request(database) -> None:  # type: ignore[no-untyped-def]
        try:
            start.wait()
            r = run_once(database, user_id="u1", key="race", method_path="POST /api/x", body={"a": 1},
                         run=_write("race", calls, pause=0.3))
            answers.append((r.status_code, r.content))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=request, args=(d,)) for d in (db, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    other.dispose()
    assert errors == []
    assert len(answers) == 2 and answers[0] == answers[1]
    assert _count(db, "race") == 1


def test_keys_older_than_a_week_are_forgotten_now_and_then(db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from datetime import datetime, timezone

    from verifier import idempotency
    from verifier.clock import FixedClock

    clock = FixedClock(datetime(2020, 6, 1, 2, tzinfo=timezone.utc))
    monkeypatch.setattr(idempotency, "_next_prune", float("inf"))  # no prune while the keys are stored
    calls: list[int] = []
    for key in ("old", "recent"):
        run_once(db, user_id="u1", key=key, method_path="POST /api/x", body={"k": key}, run=_write(key, calls),
                 clock=clock)
        clock.advance(days=6)
    monkeypatch.setattr(idempotency, "_next_prune", 0.0)  # the hour is up: the next keyed write prunes
    run_once(db, user_id="u1", key="now", method_path="POST /api/x", body={"k": "now"}, run=_write("now", calls),
             clock=clock)
    with db.read() as s:
        assert set(s.scalars(select(IdempotencyKey.key))) == {"recent", "now"}  # "old" was stored 12 days ago
    # "old" may be used again, for anything: it is forgotten; the next prune waits an hour.
    assert idempotency._next_prune > time.monotonic() + idempotency.PRUNE_EVERY - 60
    again = run_once(db, user_id="u1", key="old", method_path="POST /api/y", body=None, run=_write("old2", calls),
                     clock=clock)
    assert again.status_code == 200 and "Idempotent-Replayed" not in again.headers
