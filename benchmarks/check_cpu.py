"""CPU per recorded check in one process: `python -m benchmarks.check_cpu [-n 200] [--profile]`.

A demo home (SQLite; with VERIFIER_BENCH_DATABASE_URL a scratch PostgreSQL database beside that URL's) with the load
benchmark's field officers and scheduled cases (benchmarks/load.py), the ASGI app called directly: each case's check
posted once by one of its officers (bearer token), after 20 unmeasured ones. Prints the median CPU time of a check
(`time.process_time`, the whole process) and of `GET /api/health`, and the load average (the machine may be shared).
With `--concurrent N`, the checks are sent N at a time (as the load benchmark's clients do, so that writers wait for
one another): then the process's CPU time of all of them, divided by their number. With `--profile`, cProfile of the
checks by cumulative time (handlers that run in a worker thread are then run inline, so that cProfile sees them).
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
import shutil
import statistics
import tempfile
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


def _backends_cpu(url: str | None) -> dict[int, float] | None:
    """CPU seconds used so far by each server process of the database at `url` (PostgreSQL on this machine)."""
    if url is None or not url.startswith("postgresql"):
        return None
    import psycopg

    from verifier.settings import normalise_database_url

    libpq = normalise_database_url(url).replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(libpq, autocommit=True) as conn:
        pids = [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                           "AND pid <> pg_backend_pid()")]
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return out


async def _measure(app: Any, prepared: dict[str, Any], n: int, profile: cProfile.Profile | None,
                   concurrent: int = 0, url: str | None = None) -> None:
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
    for path, headers, body in requests[:WARM]:
        status, answer = await _call(app, "POST", path, headers, body)
        assert status == 201, answer
    measured = requests[WARM:WARM + n]
    server0 = _backends_cpu(url)
    if profile is not None:
        profile.enable()
    if concurrent:
        gate = asyncio.Semaphore(concurrent)

        async def one(path: str, headers: dict[str, str], body: bytes) -> None:
            async with gate:
                status, answer = await _call(app, "POST", path, headers, body)
                assert status == 201, answer

        t0, w0 = time.process_time(), time.perf_counter()
        await asyncio.gather(*(one(*r) for r in measured))
        cpu_each, wall = (time.process_time() - t0) / len(measured), time.perf_counter() - w0
        what = (f"check, {concurrent} at a time: CPU {cpu_each * 1000:.2f} ms each ({len(measured)} checks, "
                f"{len(measured) / wall:.0f}/s)")
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
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="bench-check-cpu-"))
    url, drop = load._scratch_database(os.environ.get("VERIFIER_BENCH_DATABASE_URL"), home)
    env = {k: v for k, v in os.environ.items() if not k.startswith("VERIFIER_")}
    env.update(VERIFIER_HOME=str(home / "home"), VERIFIER_DATABASE_URL=url)
    try:
        load._cli(env, "init", "--demo")
        prepared = load._prepare(env, args.n + WARM)
        from verifier.app import create_app
        from verifier.context import Context
        from verifier.settings import Settings

        ctx = Context.open(Settings.from_env(env))
        try:
            asyncio.run(_measure(create_app(ctx), prepared, args.n, cProfile.Profile(time.process_time) if args.profile else None,
                                 args.concurrent, url))
        finally:
            ctx.close()
    finally:
        if drop is not None:
            drop()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
