"""CPU per request of `verifier serve`, from outside: `python -m benchmarks.serve_cpu [-n 2000] [--clients 32]`.

The load benchmark's data (benchmarks/load.py: a demo home, its field officers and `n` scheduled cases; with
VERIFIER_BENCH_DATABASE_URL a scratch PostgreSQL database beside that URL's, dropped afterwards), `verifier serve`
started as the load benchmark starts it, and the load benchmark's client: `GET /api/health` 20,000 times, then each
prepared case's check posted once (`POST /api/cases/{id}/check`, bearer token), `clients` at a time, after 20
unmeasured ones. For each phase it prints the server process's CPU (user + system, /proc, all its threads) and, on
PostgreSQL, the database's backends' CPU, divided by the requests, and the load average: figures that the machine's
other work moves far less than a rate (run the code to compare alternately with this, `PYTHONPATH` naming its src).
Every answer must be the expected one, and `verifier audit verify` must find the log intact afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from . import load
from .check_cpu import _backends_cpu

HEALTH = 20_000
WARM = 20


def _cpu(pid: int) -> tuple[float, float]:
    """A process's user and system CPU so far (all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def _spent(before: dict[int, float] | None, after: dict[int, float] | None) -> float:
    if before is None or after is None:
        return 0.0
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=2000, help="checks measured")
    parser.add_argument("--clients", type=int, default=32)
    args = parser.parse_args()
    with load.scratch("bench-serve-cpu-") as site:
        env = site.env
        pg = site.url if site.url.startswith("postgresql") else None
        load._cli(env, "init", "--demo")
        prepared = load._prepare(env, args.n + WARM)
        server = site.server = load._Server(env, site.home / "server.log")
        tokens = {u: server.token(u, load.PASSWORD) for u in prepared["officers"]}
        checks = [load._post_json(f"/api/cases/{cid}/check", {"Authorization": f"Bearer {tokens[who]}"},
                                  json.dumps(body, ensure_ascii=False).encode("utf-8"))
                  for cid, who, body in prepared["work"]]
        health = [load._get("/api/health", {})] * HEALTH
        loop = load._event_loop()
        pid = server.process.pid
        lines = []
        try:
            def phase(name: str, requests: list[bytes], expect: int) -> None:
                db0, app0, wall0 = _backends_cpu(pg), _cpu(pid), time.perf_counter()
                done = loop.run_until_complete(load._run_phase(server.port, name, load._once(requests), expect,
                                                               duration=3600.0, warmup=0.0, clients=args.clients))
                (user0, system0), (user1, system1) = app0, _cpu(pid)
                wall, user, system = time.perf_counter() - wall0, user1 - user0, system1 - system0
                app = user + system
                db = _spent(db0, _backends_cpu(pg))
                n = done.count
                lines.append(f"{name}: {n} requests, {n / wall:,.0f}/s; server process CPU {app / n * 1000:.3f} ms "
                             f"each (user {user / n * 1000:.3f}, system {system / n * 1000:.3f})" + (f", database backends {db / n * 1000:.3f} ms, together "
                                        f"{(app + db) / n * 1000:.3f} ms" if pg else "")
                             + f", p50 {done.percentile(0.5) * 1000:.1f} ms, p99 {done.percentile(0.99) * 1000:.1f} ms;"
                             f" load average {os.getloadavg()[0]:.2f}")

            loop.run_until_complete(load._run_phase(server.port, "warm", load._once(checks[:WARM]), 201,
                                                    duration=3600.0, warmup=0.0, clients=4))
            phase("health", health, 200)
            phase("check", checks[WARM:], 201)
        finally:
            loop.close()
        site.stop_and_verify("the checks")
        for line in lines:
            print(line)
        print("audit verify: intact")


if __name__ == "__main__":
    main()
