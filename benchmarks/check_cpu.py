"""CPU per recorded check in one process: `python -m benchmarks.check_cpu [-n 200] [--profile]`.

A demo home (SQLite; with VERIFIER_BENCH_DATABASE_URL a scratch PostgreSQL database beside that URL's) with the load
benchmark's field officers and scheduled cases (benchmarks/load.py), the ASGI app called directly: each case's check
posted once by one of its officers (bearer token), after 20 unmeasured ones. Prints the median CPU time of a check
(`time.process_time`, the whole process) and of `GET /api/health`, and the load average (the machine may be shared).
With `--concurrent N`, the checks are sent N at a time (as the load benchmark's clients do, so that writers wait for
one another): then the process's CPU time of all of them, divided by their number, the rate, each check's wall
time (p50, p99), and how long a check's write transaction lasted (from its BEGIN to the end of its commit: on SQLite
the database's write lock) and held the audit log's head (from its lock to the end of the COMMIT that lets go of
it: on PostgreSQL the row every append waits for), medians and their sum over the wall time (near 1: the checks
waited for that lock), and the event loop's thread's time on a core, waiting for one, and neither (blocked on I/O
or a lock, or idle), per check. With `--profile`, cProfile of the checks by cumulative time (handlers and PostgreSQL's writes that run in a worker
thread are then run inline, so that cProfile sees them). With `--callgrind`, run under `valgrind --tool=callgrind
--instr-atstart=no`, only the measured checks are instrumented (`callgrind_control -i on`, then `off`): the
instructions per check are the run's total divided by their number, steady on a shared machine. On PostgreSQL the
head is held until its COMMIT's round trip ends, which also waits for the WAL's flush that follows the COMMIT; a
check's own entry is appended by the server with its COMMIT (`audit.log.append_at_commit`), which holds the head only
between those two statements on the server, so the figure is then missing (`benchmarks.pg_waits` samples what the
server's backends wait on).
On PostgreSQL it also prints the server's CPU per check: the user and system time (/proc) of the database's backends
over the measured checks, divided by their number (the server must run on this machine; a backend that ends while
measured is not counted).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import statistics
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from . import load

WARM = 20


async def _call(app: Any, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> tuple[int, bytes]:
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
             "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000), "state": {}}
    sent = False
    out: dict[str, Any] = {"body": b""}

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
        elif message["type"] == "http.response.body":
            out["body"] += message.get("body", b"")

    await app(scope, receive, send)
    return out["status"], out["body"]


class _HeldTimes:
    """How long each write transaction of the app's database lasted (its engine's `begin` event to the end of its
    commit, `Database.after_commit`) and held the audit log's head (`audit.log._lock_head` returned to the end of
    the commit), in the thread that ran it."""

    def __init__(self, app: Any) -> None:
        import threading

        from sqlalchemy import event

        from verifier.audit import log

        self.db = app.state.ctx.db if hasattr(app.state, "ctx") else None
        self._local = threading.local()
        self.txn: list[float] = []
        self.head: list[float] = []
        local = self._local

        def began(conn: Any) -> None:
            local.began = time.perf_counter()

        def committed(info: dict[str, Any]) -> None:
            end = time.perf_counter()
            if getattr(local, "began", None) is not None:
                self.txn.append(end - local.began)
            if getattr(local, "locked", None) is not None:
                self.head.append((getattr(local, "flushing", None) or end) - local.locked)
            local.began = local.locked = local.flushing = None

        from verifier.store import pgwrite
        self._pgwrite, self._flush = pgwrite, getattr(pgwrite, "flush_commits", None)

        def flush_commits(connection: Any) -> Any:  # the COMMIT has let go of the head: the WAL is flushed after
            local.flushing = time.perf_counter()
            return (yield from self._flush(connection))

        self._log, self._original = log, log._lock_head

        def lock_head(session: Any) -> Any:
            out = self._original(session)
            local.locked = time.perf_counter()
            return out

        self._event, self._began, self._committed = event, began, committed
        if self.db is not None:
            event.listen(self.db.engine, "begin", began)
            self.db.after_commit.append(committed)
            log._lock_head = lock_head
            if self._flush is not None:
                pgwrite.flush_commits = flush_commits

    def stop(self) -> None:
        if self.db is not None:
            self._event.remove(self.db.engine, "begin", self._began)
            self.db.after_commit.remove(self._committed)
            self._log._lock_head = self._original
            if self._flush is not None:
                self._pgwrite.flush_commits = self._flush

    def report(self, wall: float) -> str:
        out = ""
        for name, times in (("transaction", self.txn), ("head held", self.head)):
            if times:
                out += (f"; {name} median {statistics.median(times) * 1000:.2f} ms, "
                        f"{sum(times) / wall:.2f} of the wall time")
        return out


def _schedstat() -> tuple[float, float] | None:
    """The calling thread's time on a core and time waiting in the run queue for one, in seconds (Linux)."""
    try:
        fields = Path(f"/proc/self/task/{threading.get_native_id()}/schedstat").read_text().split()
    except OSError:
        return None
    return int(fields[0]) / 1e9, int(fields[1]) / 1e9


def _backends_pids(url: str | None) -> list[int]:
    """The server processes of the database at `url` but the asker's own (PostgreSQL on this machine; none else)."""
    if url is None or not url.startswith("postgresql"):
        return []
    import psycopg

    from verifier.settings import normalise_database_url

    libpq = normalise_database_url(url).replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(libpq, autocommit=True) as conn:
        return [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                           "AND pid <> pg_backend_pid()")]


def _backends_cpu(url: str | None) -> dict[int, float] | None:
    """CPU seconds used so far by each server process of the database at `url` (PostgreSQL on this machine)."""
    if url is None or not url.startswith("postgresql"):
        return None
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for pid in _backends_pids(url):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return out


async def _measure(app: Any, prepared: dict[str, Any], n: int, profile: cProfile.Profile | None,
                   concurrent: int = 0, url: str | None = None, callgrind: bool = False) -> None:
    tokens = {}
    for username in prepared["officers"]:
        status, body = await _call(app, "POST", "/api/auth/login", {"content-type": "application/json"},
                                   json.dumps({"username": username, "password": load.PASSWORD}).encode())
        assert status == 200, body
        tokens[username] = json.loads(body)["token"]
    requests = [(f"/api/cases/{cid}/check",
                 {"content-type": "application/json", "authorization": f"Bearer {tokens[who]}"},
                 json.dumps(body, ensure_ascii=False).encode()) for cid, who, body in prepared["work"]]
    health = []
    for _ in range(500):
        t0 = time.process_time()
        await _call(app, "GET", "/api/health", {})
        health.append(time.process_time() - t0)
    if profile is not None:
        import litestar.concurrency

        async def inline(fn: Any, *a: Any, **k: Any) -> Any:  # cProfile sees only its own thread
            return fn(*a, **k)

        litestar.concurrency._run_sync_asyncio = inline  # type: ignore[assignment]
        db = app.state.ctx.db
        if not db.is_sqlite:  # PostgreSQL's writes run in a worker thread: inline here

            async def write_inline(run: Any, **how: Any) -> Any:
                return db._write_blocking(run)

            db.write = write_inline
    for path, headers, body in requests[:WARM]:
        status, answer = await _call(app, "POST", path, headers, body)
        assert status == 201, answer
    measured = requests[WARM:WARM + n]
    server0 = _backends_cpu(url)
    if callgrind:  # run under `valgrind --tool=callgrind --instr-atstart=no`: only the measured checks counted
        subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())], check=True, capture_output=True)
    if profile is not None:
        profile.enable()
    if concurrent:
        gate = asyncio.Semaphore(concurrent)

        walls: list[float] = []

        async def timed(path: str, headers: dict[str, str], body: bytes) -> None:
            async with gate:
                t = time.perf_counter()
                status, answer = await _call(app, "POST", path, headers, body)
                walls.append(time.perf_counter() - t)
                assert status == 201, answer

        held = _HeldTimes(app)
        s0 = _schedstat()
        t0, w0 = time.process_time(), time.perf_counter()
        await asyncio.gather(*(timed(*r) for r in measured))
        cpu_each, wall = (time.process_time() - t0) / len(measured), time.perf_counter() - w0
        s1 = _schedstat()
        held.stop()
        walls.sort()
        what = (f"check, {concurrent} at a time: CPU {cpu_each * 1000:.2f} ms each ({len(measured)} checks, "
                f"{len(measured) / wall:.0f}/s, wall p50 {walls[len(walls) // 2] * 1000:.1f} ms, "
                f"p99 {walls[int(len(walls) * 0.99)] * 1000:.1f} ms){held.report(wall)}")
        if s0 is not None and s1 is not None:
            on_cpu, queued = s1[0] - s0[0], s1[1] - s0[1]
            what += (f"; the event loop's thread per check: on a core {on_cpu / len(measured) * 1000:.2f} ms, waiting "
                     f"for one {queued / len(measured) * 1000:.2f} ms, neither (I/O, locks, idle) "
                     f"{(wall - on_cpu - queued) / len(measured) * 1000:.2f} ms")
    else:
        cpu = []
        for path, headers, body in measured:
            t0 = time.process_time()
            status, answer = await _call(app, "POST", path, headers, body)
            cpu.append(time.process_time() - t0)
            assert status == 201, answer
        what = f"check: median CPU {statistics.median(cpu) * 1000:.2f} ms ({n} checks)"
    if profile is not None:
        profile.disable()
    if callgrind:
        subprocess.run(["callgrind_control", "-i", "off", str(os.getpid())], check=True, capture_output=True)
    server1 = _backends_cpu(url)
    if server0 is not None and server1 is not None:
        spent = sum(cpu - server0.get(pid, 0.0) for pid, cpu in server1.items())
        what += f"; server CPU {spent / len(measured) * 1000:.2f} ms each"
    print(f"{what}; GET /api/health: median CPU {statistics.median(health) * 1000:.3f} ms; "
          f"load average {os.getloadavg()[0]:.2f}")
    if profile is not None:
        stats = pstats.Stats(profile)
        stats.sort_stats("cumulative").print_stats(60)
        stats.sort_stats("tottime").print_stats(40)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=200, help="checks measured")
    parser.add_argument("--concurrent", type=int, default=0, help="checks sent at a time (0: one after another)")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--callgrind", action="store_true",
                        help="under valgrind --tool=callgrind --instr-atstart=no: instrument the measured checks only")
    args = parser.parse_args()
    with load.scratch("bench-check-cpu-") as site:
        env, url = site.env, site.url
        load._cli(env, "init", "--demo")
        prepared = load._prepare(env, args.n + WARM)
        from verifier.app import create_app
        from verifier.context import Context
        from verifier.settings import Settings

        ctx = Context.open(Settings.from_env(env))
        try:
            asyncio.run(_measure(create_app(ctx), prepared, args.n, cProfile.Profile(time.process_time) if args.profile else None,
                                 args.concurrent, url, args.callgrind))
        finally:
            ctx.close()


if __name__ == "__main__":
    main()
