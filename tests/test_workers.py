"""Several server processes on one database: `verifier serve --workers 2` and a second `verifier serve` beside it,
written through at once. Every write lands once, an Idempotency-Key answered by one process is honoured by the
other, a session opened on one is good on the other, and afterwards the audit log verifies with a checkpoint at its
head (each process signs checkpoints; two signing the same size agree). SQLite, and PostgreSQL when the suite runs
on it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from factories import new_id_number

CLI = "from verifier.cli import main; main()"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _call(base: str, method: str, path: str, body: dict | None = None,
          headers: dict[str, str] | None = None) -> tuple[int, dict, dict[str, str]]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=60) as r:
            return r.status, json.loads(r.read() or b"{}"), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}"), dict(e.headers)


@pytest.fixture
def servers(tmp_path: Path, database_url: str) -> Iterator[tuple[str, str, dict[str, str]]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VERIFIER_")}
    env.update(VERIFIER_HOME=str(tmp_path / "home"), VERIFIER_DATABASE_URL=database_url)
    subprocess.run([sys.executable, "-c", CLI, "init", "--demo"], env=env, check=True, capture_output=True,
                   timeout=180)
    ports = [_free_port(), _free_port()]
    processes = []
    try:
        for port, extra in zip(ports, (["--workers", "2"], []), strict=True):
            log = open(tmp_path / f"server-{port}.log", "wb")  # noqa: SIM115 - closed with the process
            processes.append((subprocess.Popen(
                [sys.executable, "-c", CLI, "serve", "--host", "127.0.0.1", "--port", str(port), *extra],
                env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True), log))
        bases = [f"http://127.0.0.1:{p}" for p in ports]
        deadline = time.monotonic() + 60
        for base in bases:
            while True:
                try:
                    if _call(base, "GET", "/api/health")[0] == 200:
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline or any(p.poll() is not None for p, _ in processes):
                    logs = "\n".join((tmp_path / f).read_text("utf-8", "replace") for f in os.listdir(tmp_path)
                                     if f.startswith("server-"))
                    raise RuntimeError("the servers did not start:\n" + logs)
                time.sleep(0.2)
        yield bases[0], bases[1], env
    finally:
        for process, log in processes:
            os.killpg(process.pid, signal.SIGTERM)  # the server and its worker processes, which sign what is pending
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            log.close()


def _application(n: int) -> dict:
    return {"county_code": "340223", "id_number": new_id_number(), "name": f"并发{n}", "town": "城关镇",
            "village": "东村", "household_group": "low_income", "cause": "illness", "amount": "1000.00",
            "referred_on": "2020-06-01"}


def test_two_processes_write_one_database_and_the_log_stays_whole(servers, database_url) -> None:  # type: ignore[no-untyped-def]
    from verifier.audit.checkpoints import latest_checkpoint
    from verifier.audit.log import tree_size
    from verifier.store.db import Database

    multi, single, env = servers
    status, body, _ = _call(multi, "POST", "/api/auth/login", {"username": "clerk", "password": "demo-pass-2020"})
    assert status == 200, body
    auth = {"Authorization": f"Bearer {body['token']}"}
    assert _call(single, "GET", "/api/auth/me", headers=auth)[0] == 200  # the session lives in the database

    def send(n: int) -> tuple[int, dict, dict[str, str]]:
        return _call(multi if n % 2 else single, "POST", "/api/referrals", _application(n), auth)

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(send, range(24)))
    assert [a[0] for a in answers] == [201] * 24, [a[1] for a in answers if a[0] != 201]
    assert len({a[1]["case_id"] for a in answers}) == 24

    # One Idempotency-Key: answered by one process, replayed by the other; one case.
    keyed = {**auth, "Idempotency-Key": "workers-test-1"}
    body = _application(99)
    first = _call(multi, "POST", "/api/referrals", body, keyed)
    again = _call(single, "POST", "/api/referrals", body, keyed)
    assert first[0] == again[0] == 201 and first[1] == again[1]
    assert {k.lower(): v for k, v in again[2].items()}.get("idempotent-replayed") == "true"

    # Each process signs a checkpoint within a second of its writes; the last one covers the whole log.
    db = Database(database_url)
    try:
        deadline = time.monotonic() + 20
        while True:
            with db.read() as session:
                size, latest = tree_size(session), latest_checkpoint(session)
            if latest is not None and latest.tree_size == size:
                break
            assert time.monotonic() < deadline, f"no checkpoint at the head ({size} entries) after 20 s"
            time.sleep(0.3)
    finally:
        db.dispose()
    run = subprocess.run([sys.executable, "-c", CLI, "audit", "verify"], env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0 and "intact" in run.stdout, run.stdout + run.stderr
