"""Faults: the server killed under write load, the database gone for a while, the disk full.

- SIGKILL while clients write: every write the server acknowledged is there afterwards, the audit log verifies, and
  the restarted server serves and writes (both databases).
- PostgreSQL unreachable (its connections cut and refused, as in a restart): requests are answered 503 with a problem
  body and Retry-After, nothing is half-written, and once it is back the same server serves again without a restart.
  Cut through a TCP relay in front of the database, so the shared server of the suite is never restarted.
- SQLite that cannot grow (disk full): 507 with a problem body, nothing half-written, the file intact.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import pytest
from serving import CLI, Server, application, call, clerk_env
from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url

from verifier.audit.checkpoints import install, known_keys
from verifier.audit.verify import verify_log
from verifier.store import faults
from verifier.store.db import Database
from verifier.store.tables import Case


def _cases(database_url: str) -> set[str]:
    db = Database(database_url)
    try:
        with db.read() as session:
            return set(session.scalars(select(Case.id)))
    finally:
        db.dispose()


def test_a_killed_server_keeps_every_acknowledged_write(tmp_path, database_url) -> None:  # type: ignore[no-untyped-def]
    env = clerk_env(tmp_path / "home", database_url)
    server = Server(env, tmp_path / "server.log")
    acknowledged: list[str] = []
    stop = threading.Event()

    def writer(n: int) -> None:
        auth = server.login()
        i = 0
        while not stop.is_set():
            try:
                status, body, _ = call(server.base, "POST", "/api/referrals", application(f"写入{n}-{i}"), auth)
            except OSError:
                return  # the server is gone: this write was never acknowledged
            if status == 201:
                acknowledged.append(body["case_id"])
            i += 1

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    try:
        for t in threads:
            t.start()
        deadline = time.monotonic() + 30
        while len(acknowledged) < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        server.stop(signal.SIGKILL)  # mid-write: no shutdown, no pending checkpoint signed
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
        server.stop()
    assert len(acknowledged) >= 20
    assert set(acknowledged) <= _cases(database_url)

    run = subprocess.run([sys.executable, "-c", CLI, "audit", "verify"], env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0 and "审计日志完整" in run.stdout, run.stdout + run.stderr
    again = Server(env, tmp_path / "server.log")
    try:
        status, body, _ = call(again.base, "POST", "/api/referrals", application("重启后"), again.login())
        assert status == 201, body
    finally:
        again.stop()


class Relay:
    """A TCP relay to the database that can be cut: open connections dropped, new ones refused, until `mend()`."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.cut_off = threading.Event()
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.cut_off.is_set():
                client.close()
                continue
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self) -> None:
        self.cut_off.set()
        with self.lock:
            for s in self.sockets:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
            self.sockets.clear()

    def mend(self) -> None:
        self.cut_off.clear()

    def close(self) -> None:
        self.cut()
        self.listener.close()


@pytest.fixture
def relayed(ctx, database_url) -> Any:  # type: ignore[no-untyped-def]
    if database_url.startswith("sqlite"):
        pytest.skip("a database server to lose is PostgreSQL's case (set VERIFIER_TEST_DATABASE_URL)")
    url = make_url(database_url)
    relay = Relay(url.host or "127.0.0.1", url.port or 5432)
    db = Database(url.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False))
    hook = install(db, ctx.signer)
    try:
        yield replace(ctx, db=db, checkpoint_hook=hook), relay
    finally:
        hook.close()
        relay.close()
        db.dispose()


def test_a_database_that_goes_away_is_answered_503_and_served_again_when_back(relayed, users) -> None:  # type: ignore[no-untyped-def]
    from litestar.testing import TestClient

    from verifier.app import create_app

    ctx, relay = relayed
    users.add("clerk1", "town_clerk", counties=("340223",))
    with TestClient(app=create_app(ctx)) as client:
        token = client.post("/api/auth/login", json={"username": "clerk1", "password": "correct horse battery"})
        auth = {"Authorization": f"Bearer {token.json()['token']}"}
        before = _count(ctx.db)

        relay.cut()
        r = client.post("/api/referrals", json=application("断线"), headers=auth)
        assert r.status_code == 503, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.headers["retry-after"] == "5" and r.json()["detail"] == faults.UNAVAILABLE_ZH
        assert r.json()["title"] == "暂时无法服务"
        page = client.get("/cases", headers={**auth, "Accept": "text/html"})
        assert page.status_code == 503 and "数据库暂时无法连接" in page.text

        relay.mend()
        r = client.post("/api/referrals", json=application("恢复"), headers=auth)
        assert r.status_code == 201, r.text  # the same server, no restart
        assert _count(ctx.db) == before + 1  # the refused write left nothing behind
    with ctx.db.read() as session:
        keys = known_keys(session)
    assert verify_log(ctx.db, keys).ok


def _count(db: Database) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(Case)) or 0


def test_a_full_disk_is_answered_507_and_leaves_the_database_whole(ctx, client, users, database_url) -> None:  # type: ignore[no-untyped-def]
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's size limit stands in for a full disk; PostgreSQL's disk is the server's")
    from factories import new_id_number

    users.add("sup", "insurer_supervisor", counties=("340223",))
    auth = users.headers("sup")
    rows = ["身份证号,姓名,乡镇,村,户类型,原因,金额,日期"] + [
        f"{new_id_number()},户主{i},城关镇,东村,非贫低收入户,因病,1000.00,2020-05-20" for i in range(400)]
    data = ("\n".join(rows) + "\n").encode("utf-8")
    before = _count(ctx.db)

    def cap(dbapi_connection: Any, _record: Any) -> None:
        pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

    for engine in (ctx.db.engine, ctx.db.read_engine):
        engine.dispose()
        event.listen(engine, "connect", cap)
    try:
        r = client.post("/api/referrals/imports", headers=auth, data={"channel": "civil_affairs",
                                                                      "county_code": "340223"},
                        files={"file": ("民政局.csv", data, "text/csv")})
    finally:
        for engine in (ctx.db.engine, ctx.db.read_engine):
            event.remove(engine, "connect", cap)
            engine.dispose()
    assert r.status_code == 507, r.text
    assert r.headers["content-type"].startswith("application/problem+json") and "存储空间已满" in r.json()["detail"]
    assert r.json()["title"] == "存储空间已满"
    assert _count(ctx.db) == before
    with ctx.db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    with ctx.db.read() as session:
        keys = known_keys(session)
    assert verify_log(ctx.db, keys).ok
    # With room again, the same file goes in.
    r = client.post("/api/referrals/imports", headers=auth, data={"channel": "civil_affairs", "county_code": "340223"},
                    files={"file": ("民政局.csv", data, "text/csv")})
    assert r.status_code == 201, r.text
    assert _count(ctx.db) == before + 400


def test_the_answers_are_concurrent_safe_under_a_cut(relayed, users) -> None:  # type: ignore[no-untyped-def]
    """Several requests in flight when the database goes: each is answered (201 before, 503 during), none hangs, and
    clients retrying with their Idempotency-Key once it is back get each write exactly once.

    A write whose COMMIT reached the database but whose acknowledgement was lost in the cut is answered 503 although
    it is there (no server can know better): its key was stored in the same transaction, so the retry is answered
    with what was stored instead of writing it again."""
    from litestar.testing import TestClient

    from verifier.app import create_app

    ctx, relay = relayed
    users.add("clerk2", "town_clerk", counties=("340223",))
    with TestClient(app=create_app(ctx)) as client:
        token = client.post("/api/auth/login", json={"username": "clerk2", "password": "correct horse battery"})
        auth = {"Authorization": f"Bearer {token.json()['token']}"}
        with ctx.db.read() as session:
            before = session.scalar(select(func.count()).select_from(Case)) or 0

        bodies = [application(f"并发断线{n}") for n in range(20)]  # a retry sends the very same request again

        def send(n: int) -> int:
            if n == 10:
                relay.cut()
            return client.post("/api/referrals", json=bodies[n],
                               headers={**auth, "Idempotency-Key": f"cut-{n}"}).status_code

        with ThreadPoolExecutor(max_workers=4) as pool:
            codes = list(pool.map(send, range(20)))
        assert set(codes) <= {201, 503}, codes
        assert 503 in codes
        relay.mend()
        retried = [client.post("/api/referrals", json=bodies[n],
                               headers={**auth, "Idempotency-Key": f"cut-{n}"}).status_code
                   for n, code in enumerate(codes) if code == 503]
        assert set(retried) == {201}, retried
        r = client.post("/api/referrals", json=application("之后"), headers=auth)
        assert r.status_code == 201
    with ctx.db.read() as session:
        names = session.scalar(select(func.count()).select_from(Case)) or 0
    assert names == before + 20 + 1  # every request written once: none lost, none twice


def test_case_reads_in_flight_when_the_database_goes_are_answered_and_served_again(relayed, users) -> None:  # type: ignore[no-untyped-def]
    """The session lookup and the case read run on the event loop (psycopg's AsyncConnection, store/reader.py):
    reads in flight during a cut are answered 200 or 503 with a problem body, none hangs, and once the database is
    back the same server answers them again, with the very same case."""
    from litestar.testing import TestClient

    from verifier.app import create_app

    ctx, relay = relayed
    users.add("clerk3", "town_clerk", counties=("340223",))
    with TestClient(app=create_app(ctx)) as client:
        token = client.post("/api/auth/login", json={"username": "clerk3", "password": "correct horse battery"})
        auth = {"Authorization": f"Bearer {token.json()['token']}"}
        created = client.post("/api/referrals", json=application("读时断线"), headers=auth)
        assert created.status_code == 201, created.text
        case_id = created.json()["case_id"]
        before = client.get(f"/api/cases/{case_id}", headers=auth)
        assert before.status_code == 200, before.text

        def read(n: int) -> tuple[int, str]:
            if n == 8:
                relay.cut()
            r = client.get(f"/api/cases/{case_id}", headers=auth)
            return r.status_code, r.headers["content-type"]

        with ThreadPoolExecutor(max_workers=4) as pool:
            answers = list(pool.map(read, range(24)))
            assert {code for code, _ in answers} <= {200, 503} and (503, "application/problem+json") in answers
            relay.mend()
            assert list(pool.map(read, range(9, 24))) == [(200, "application/json")] * 15  # some connections idle
        relay.cut()  # every idle connection is stale now: the first one found gone drops them all
        assert read(0)[0] == 503
        relay.mend()
        again = [client.get(f"/api/cases/{case_id}", headers=auth) for _ in range(3)]
        assert [r.status_code for r in again] == [200] * 3
        assert again[-1].json() == before.json()
