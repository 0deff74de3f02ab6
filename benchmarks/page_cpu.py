"""CPU per request in one process: the ASGI app called directly (no server, no client), on a demo home.

    PYTHONPATH=src python -m benchmarks.page_cpu [--path /cases] [--user supervisor] [-n 1000] [--extra 1000]
        [--profile] [--database-url postgresql://...] [--bearer] [--home saved.json]

It makes a demo home (`verifier init --demo`, SQLite in a scratch folder unless --database-url names a scratch
PostgreSQL database to fill), adds `--extra` cases (as the load benchmark's prepared ones, so the list has pages),
logs the user in through the login form, opens `--path` once and then requests it `-n` times after a warm-up with the
cookies a browser keeps (the session's and the form-protection cookie the first page set),
printing the median of the process's CPU time per request and the median and best wall time; `--profile` prints
cProfile's view of those requests instead (handlers that run in a worker thread are then run inline, so that
cProfile, which sees only its own thread, sees them).

With `--bearer` the user logs in through `POST /api/auth/login` and sends its token in an `Authorization: Bearer`
header (as the API's callers do); a `{case}` in the path is each of the demo's cases in turn. `--home FILE` keeps the
home's environment in FILE and uses it again when FILE exists (to measure two versions of the code on the same data).
On PostgreSQL it also prints the CPU time the server's processes of that database took per request (from
/proc/PID/stat, so only with the server on this machine). With `--callgrind`, run under `valgrind --tool=callgrind
--instr-atstart=no`, callgrind counts the instructions of the measured requests alone (its instrumentation switched
on just before them and off after, `callgrind_control -i`): a count that a busy machine does not disturb.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import itertools
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

CLI = "from verifier.cli import main; main()"


async def call(app: Any, method: str, path: str, headers: list[tuple[bytes, bytes]],
               body: bytes = b"") -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """One request to an ASGI app: (status, headers, body)."""
    raw_path, _, query = path.partition("?")
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": raw_path, "raw_path": raw_path.encode(), "query_string": query.encode(), "root_path": "",
             "headers": [(b"host", b"127.0.0.1"), *headers], "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
             "state": {}}
    sent = False
    out: dict[str, Any] = {"body": []}

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            out["status"], out["headers"] = message["status"], message.get("headers", [])
        elif message["type"] == "http.response.body":
            out["body"].append(message.get("body", b""))

    await app(scope, receive, send)
    return out["status"], out["headers"], b"".join(out["body"])


def home(database_url: str | None, extra: int) -> dict[str, str]:
    folder = Path(tempfile.mkdtemp(prefix="page-cpu-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("VERIFIER_")}
    env.update(VERIFIER_HOME=str(folder / "home"),
               VERIFIER_DATABASE_URL=database_url or f"sqlite:///{folder / 'verifier.db'}")
    subprocess.run([sys.executable, "-c", CLI, "init", "--demo"], env=env, check=True, capture_output=True)
    if extra:
        from . import load

        load._prepare(env, extra)
    return env


def login(loop: asyncio.AbstractEventLoop, app: Any, username: str, password: str) -> list[tuple[bytes, bytes]]:
    form = urllib.parse.urlencode({"username": username, "password": password, "next": "/"}).encode()
    status, headers, body = loop.run_until_complete(call(app, "POST", "/login", [
        (b"content-type", b"application/x-www-form-urlencoded"), (b"content-length", str(len(form)).encode())], form))
    assert status == 303, (status, body[:300])
    cookies = [v.split(b";")[0] for k, v in headers if k.lower() == b"set-cookie"]
    return [(b"cookie", b"; ".join(cookies))]


def bearer(loop: asyncio.AbstractEventLoop, app: Any, username: str, password: str) -> list[tuple[bytes, bytes]]:
    body = json.dumps({"username": username, "password": password}).encode()
    status, _, answer = loop.run_until_complete(call(app, "POST", "/api/auth/login", [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())], body))
    assert status == 200, (status, answer[:300])
    return [(b"authorization", b"Bearer " + json.loads(answer)["token"].encode())]


def server_cpu(database_url: str) -> float:
    """Seconds of CPU the PostgreSQL server's processes connected to this database took so far (this machine's)."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        pids = [pid for pid, in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")]
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def kept_cookies(loop: asyncio.AbstractEventLoop, app: Any, path: str,
                 headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The cookie header a browser sends after its first page: the login's and what that page set (the
    form-protection cookie), as the load benchmark's client keeps them."""
    _, answer, _ = loop.run_until_complete(call(app, "GET", path, headers))
    jar = dict(c.split(b"=", 1) for c in headers[0][1].split(b"; ") if c)
    jar.update(v.split(b";")[0].split(b"=", 1) for k, v in answer if k.lower() == b"set-cookie")
    return [(b"cookie", b"; ".join(k + b"=" + v for k, v in jar.items()))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--path", default="/cases")
    parser.add_argument("--user", default="supervisor")
    parser.add_argument("--password", default="demo-pass-2020")
    parser.add_argument("-n", type=int, default=1000)
    parser.add_argument("--extra", type=int, default=1000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--database-url")
    parser.add_argument("--bearer", action="store_true")
    parser.add_argument("--home")
    parser.add_argument("--callgrind", action="store_true",
                        help="run under `valgrind --tool=callgrind --instr-atstart=no`: count only the measured requests")
    args = parser.parse_args()

    if args.home and Path(args.home).exists():
        env = json.loads(Path(args.home).read_text())
    else:
        env = home(args.database_url, args.extra)
        if args.home:
            Path(args.home).write_text(json.dumps(env))
    os.environ.update(env)
    from verifier.app import create_app
    from verifier.context import Context
    from verifier.settings import Settings

    ctx = Context.open(Settings.from_env(env))
    app = create_app(ctx)
    loop = asyncio.new_event_loop()
    loop.run_until_complete(call(app, "GET", "/api/health", []))  # startup work happens on the first request
    headers = (bearer(loop, app, args.user, args.password) if args.bearer else
               kept_cookies(loop, app, args.path, login(loop, app, args.user, args.password)))
    paths = itertools.repeat(args.path)
    if "{case}" in args.path:
        _, _, listed = loop.run_until_complete(call(app, "GET", "/api/cases?limit=500", headers))
        paths = itertools.cycle([args.path.replace("{case}", c["id"]) for c in json.loads(listed)["items"]])
    database_url = env["VERIFIER_DATABASE_URL"]

    async def many(n: int) -> tuple[list[float], list[float]]:
        walls, cpus = [], []
        for _ in range(n):
            path = next(paths)
            t0, c0 = time.perf_counter(), time.process_time()
            status, _, body = await call(app, "GET", path, headers)
            cpus.append(time.process_time() - c0)
            walls.append(time.perf_counter() - t0)
            assert status == 200, (status, body[:500])
        return walls, cpus

    loop.run_until_complete(many(50))
    if args.profile:
        import litestar.concurrency

        async def inline(fn: Any, *a: Any, **k: Any) -> Any:  # cProfile sees only its own thread
            return fn(*a, **k)

        litestar.concurrency._run_sync_asyncio = inline  # type: ignore[assignment]
        profiler = cProfile.Profile()
        profiler.enable()
        loop.run_until_complete(many(args.n))
        profiler.disable()
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(60)
        stats.sort_stats("tottime").print_stats(40)
    else:
        postgres = database_url.startswith("postgresql")
        before = server_cpu(database_url) if postgres else 0.0
        if args.callgrind:
            subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())], check=True, capture_output=True)
        walls, cpus = loop.run_until_complete(many(args.n))
        if args.callgrind:
            subprocess.run(["callgrind_control", "-i", "off", str(os.getpid())], check=True, capture_output=True)
        server = f"; server CPU {(server_cpu(database_url) - before) / args.n * 1000:.2f} ms" if postgres else ""
        print(f"{args.path} as {args.user}, {args.n} requests: CPU median {statistics.median(cpus) * 1000:.2f} ms; "
              f"wall median {statistics.median(walls) * 1000:.2f} ms, best {min(walls) * 1000:.2f} ms{server}")
    ctx.close()


if __name__ == "__main__":
    main()
