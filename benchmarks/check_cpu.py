"""CPU per recorded check in one process: `python -m benchmarks.check_cpu [-n 200] [--profile]`.

A demo home (SQLite; with VERIFIER_BENCH_DATABASE_URL a scratch PostgreSQL database beside that URL's) with the load
benchmark's field officers and scheduled cases (benchmarks/load.py), the ASGI app called directly: each case's check
posted once by one of its officers (bearer token), after 20 unmeasured ones. Prints the median CPU time of a check
(`time.process_time`, the whole process) and of `GET /api/health`, and the load average (the machine may be shared).
With `--profile`, cProfile of the worker thread's part (the route's idempotent write), by cumulative time.
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


async def _measure(app: Any, prepared: dict[str, Any], n: int, profile: cProfile.Profile | None) -> None:
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
        from verifier.checks import routes

        original = routes.idempotent

        def profiled(*args: Any, **kwargs: Any) -> Any:  # runs in the worker thread: profile it there
            profile.enable()
            try:
                return original(*args, **kwargs)
            finally:
                profile.disable()

        routes.idempotent = profiled  # type: ignore[assignment]
    cpu = []
    for i, (path, headers, body) in enumerate(requests[:WARM + n]):
        t0 = time.process_time()
        status, answer = await _call(app, "POST", path, headers, body)
        if i >= WARM:
            cpu.append(time.process_time() - t0)
        assert status == 201, answer
    print(f"check: median CPU {statistics.median(cpu) * 1000:.2f} ms ({n} checks); GET /api/health: median CPU "
          f"{statistics.median(health) * 1000:.3f} ms; load average {os.getloadavg()[0]:.2f}")
    if profile is not None:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(50)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=200, help="checks measured")
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
            asyncio.run(_measure(create_app(ctx), prepared, args.n, cProfile.Profile() if args.profile else None))
        finally:
            ctx.close()
    finally:
        if drop is not None:
            drop()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
