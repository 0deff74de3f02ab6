"""Several server processes on one database: `verifier serve --workers 2` and a second `verifier serve` beside it,
written through at once. Every write lands once, an Idempotency-Key answered by one process is honoured by the
other, a session opened on one is good on the other, and afterwards the audit log verifies with a checkpoint at its
head (each process signs checkpoints; two signing the same size agree). SQLite, and PostgreSQL when the suite runs
on it."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from click.testing import CliRunner
from serving import Server, application, call, clerk_env

from verifier.audit.checkpoints import latest_checkpoint
from verifier.audit.log import tree_size
from verifier.cli import main
from verifier.store.db import Database


def test_two_processes_write_one_database_and_the_log_stays_whole(tmp_path, database_url, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    env = clerk_env(tmp_path / "home", database_url, tmp_path_factory)
    database_url = env["VERIFIER_DATABASE_URL"]  # on PostgreSQL, the copy init_home made
    servers = [Server(env, tmp_path / "multi.log", "--workers", "2"), Server(env, tmp_path / "single.log")]
    try:
        multi, single = (s.base for s in servers)
        auth = servers[0].login()
        assert call(single, "GET", "/api/auth/me", headers=auth)[0] == 200  # the session lives in the database

        def send(n: int) -> tuple[int, dict, dict[str, str]]:
            return call(multi if n % 2 else single, "POST", "/api/referrals", application(f"并发{n}"), auth)

        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(send, range(24)))
        assert [a[0] for a in answers] == [201] * 24, [a[1] for a in answers if a[0] != 201]
        assert len({a[1]["case_id"] for a in answers}) == 24

        # One Idempotency-Key: answered by one process, replayed by the other; one case.
        keyed = {**auth, "Idempotency-Key": "workers-test-1"}
        body = application("并发99")
        first = call(multi, "POST", "/api/referrals", body, keyed)
        again = call(single, "POST", "/api/referrals", body, keyed)
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
        verify = CliRunner().invoke(main, ["audit", "verify"], env=env)  # the processes are the servers: this one reads
        assert verify.exit_code == 0 and "审计日志完整" in verify.output, verify.output
    finally:
        for server in servers:
            server.stop()
