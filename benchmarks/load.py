"""The API under load: `verifier serve` on a demo home, 32 concurrent clients on loopback, rates and latencies.

One run measures, one after the other on the same server:

- `GET /api/health` (the baseline: no login, no database);
- `GET /api/cases/{id}` (a supervisor's bearer token; the demo's cases in turn, every stage of the flow);
- the case list page `/cases` (a supervisor logged in through the login form, with the cookies a browser keeps: the session and the form-protection one);
- `POST /api/cases/{id}/check` (a field officer recording a home check; a fresh scheduled case each time).

Each figure is printed with its p50 and p99 and as a ratio to the same run's health rate. Any answer that is not the
expected one fails the run, and afterwards `verifier audit verify` must find the log intact.

The scheduled cases for the check recording are made before the server starts, through the services (so the audit
log has them): applications, screening, and visits spread over days for 16 pairs of extra field officers, within the
contract's capacity per officer and day. The recording phase ends when they are used up (or after its duration).

The client is a small asyncio HTTP/1.1 client over keep-alive connections (uvloop when installed), with every request
prepared in advance so that it spends as little CPU as possible: on a two-core machine it shares the cores with the
server, so the absolute rates are lower than those of a separate load machine; the ratios are what we compare.

SQLite (a file in a scratch home) by default; with VERIFIER_BENCH_DATABASE_URL set to a PostgreSQL URL the server
runs on a scratch database made next to that URL's one, dropped afterwards.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from .harness import Result

CLIENTS = 32
DURATION = 10.0  # seconds per measured phase
WARMUP = 1.0  # seconds of unmeasured requests before each phase
CHECK_CASES = 2000  # scheduled cases prepared for the check recording
OFFICERS = 32  # extra field officers (16 pairs), so that scheduling stays within each officer's daily capacity
COUNTY = "340223"
PASSWORD = "bench-pass-2020"
CLI = "from verifier.cli import main; main()"
TARGETS = {"case_read": (0.25, 0.250), "case_list_page": (0.15, None), "check_record": (0.10, 0.500)}


@dataclass
class LoadResult(Result):
    p50: float = 0.0
    p99: float = 0.0
    p99_target: float | None = None

    def line(self) -> str:
        verdict = ""
        if self.target is not None:
            met = self.ratio >= self.target and (self.p99_target is None or self.p99 < self.p99_target)
            p99 = f", p99 < {self.p99_target * 1000:.0f} ms" if self.p99_target is not None else ""
            verdict = f"  target ≥ {self.target:.0%}{p99}: {'met' if met else 'NOT met'}"
        return (f"{self.name}: {self.rate:,.0f} {self.unit}/s, p50 {self.p50 * 1000:.1f} ms, p99 {self.p99 * 1000:.1f} ms;"
                f" baseline ({self.baseline}) {self.baseline_rate:,.0f} {self.unit}/s; ratio {self.ratio:.1%}{verdict}")


# The client ------------------------------------------------------------------------------------------------------

class ErrorAnswer(Exception):
    pass


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, bytes, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = None
    chunked = False
    lower = head.lower()
    at = lower.find(b"\r\ncontent-length:")
    if at >= 0:
        length = int(lower[at + 17:lower.index(b"\r\n", at + 2)])
    elif b"\r\ntransfer-encoding: chunked" in lower:
        chunked = True
    if chunked:
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
        body = b"".join(parts)
    else:
        body = await reader.readexactly(length or 0)
    return status, head, body


@dataclass
class Phase:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def count(self) -> int:
        return len(self.latencies)

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


async def _run_phase(port: int, name: str, next_request: Callable[[], bytes | None], expect: int, *,
                     duration: float, warmup: float, clients: int) -> Phase:
    """`clients` keep-alive connections sending `next_request()` until it gives None or `duration` is over.

    Requests answered within the first `warmup` seconds are not counted."""
    phase = Phase(name)
    start = time.perf_counter()
    measure_from = start + warmup
    stop_at = measure_from + duration
    first: list[float] = []

    async def client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while True:
                raw = next_request()
                if raw is None:
                    return
                t0 = time.perf_counter()
                if t0 >= stop_at:
                    return
                writer.write(raw)
                status, head, body = await _read_answer(reader)
                t1 = time.perf_counter()
                if status != expect:
                    phase.errors.append(f"{status} {head.split(b' ', 2)[2][:40]!r}: {body[:300]!r}")
                    return
                if t0 >= measure_from:
                    if not first:
                        first.append(t0)
                    phase.latencies.append(t1 - t0)
        finally:
            writer.close()

    await asyncio.gather(*(client() for _ in range(clients)))
    end = time.perf_counter()
    phase.seconds = min(end, stop_at) - (first[0] if first else measure_from)
    if phase.errors:
        raise ErrorAnswer(f"{name}: {len(phase.errors)} error answer(s), first: {phase.errors[0]}")
    return phase


def _get(path: str, headers: dict[str, str]) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1"] + [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _post_json(path: str, headers: dict[str, str], body: bytes) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json",
             f"Content-Length: {len(body)}"] + [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _cycle(requests: list[bytes]) -> Callable[[], bytes]:
    state = {"i": 0}

    def nxt() -> bytes:
        i = state["i"]
        state["i"] = i + 1
        return requests[i % len(requests)]

    return nxt


def _once(requests: list[bytes]) -> Callable[[], bytes | None]:
    it = iter(requests)
    return lambda: next(it, None)


# The server and its data ------------------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _scratch_database(url: str | None, home: Path) -> tuple[str, Callable[[], None] | None]:
    if url is None:
        return f"sqlite:///{home / 'verifier.db'}", None
    from sqlalchemy import create_engine, text

    from verifier.settings import normalise_database_url

    base = normalise_database_url(url)
    name = f"bench_load_{secrets.token_hex(4)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    parts = urllib.parse.urlsplit(base)

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}")), drop


@dataclass
class Scratch:
    """A benchmark's scratch home and database (`scratch`), the environment of the commands run on them, and the
    server once one is started."""

    home: Path
    url: str
    env: dict[str, str]
    server: _Server | None = None

    def stop_and_verify(self, after: str) -> None:
        """Stop the server and check that the audit log still verifies (`after`: what was run, for the error)."""
        if self.server is not None:
            self.server.stop()
            self.server = None
        out = _cli(self.env, "audit", "verify")
        if "审计日志完整" not in out:
            raise RuntimeError(f"the audit log does not verify after {after}:\n{out}")


@contextmanager
def scratch(prefix: str) -> Iterator[Scratch]:
    """A fresh home and database (VERIFIER_BENCH_DATABASE_URL's server, else SQLite in the home), the demo not yet
    loaded; on leaving, the server stopped if it still runs, the database dropped and the home removed."""
    home = Path(tempfile.mkdtemp(prefix=prefix))
    url, drop = _scratch_database(os.environ.get("VERIFIER_BENCH_DATABASE_URL"), home)
    env = {k: v for k, v in os.environ.items() if not k.startswith("VERIFIER_")}
    # VERIFIER_ID_LOOKUPS_PER_WINDOW: each officer records some 125 checks naming a spouse new to the household within
    # minutes, past the 60 a person may name in the login window (accounts/probes.py)
    env.update(VERIFIER_HOME=str(home / "home"), VERIFIER_DATABASE_URL=url, VERIFIER_ID_LOOKUPS_PER_WINDOW="100000")
    site = Scratch(home, url, env)
    try:
        yield site
    finally:
        if site.server is not None:
            site.server.stop()
        if drop is not None:
            drop()
        shutil.rmtree(home, ignore_errors=True)


def _cli(env: dict[str, str], *args: str, timeout: float = 600) -> str:
    run = subprocess.run([sys.executable, "-c", CLI, *args], env=env, capture_output=True, text=True, timeout=timeout)
    if run.returncode != 0:
        raise RuntimeError(f"verifier {' '.join(args)} failed:\n{run.stdout}{run.stderr}")
    return run.stdout


def _id_numbers() -> Callable[[], str]:
    from verifier.domain.idnumber import make_id_number

    state = {"n": 0}

    def nxt() -> str:
        n = state["n"]
        state["n"] = n + 1
        # Births from 1940 on, one a day, sequence numbers 900-999: no demo household has these.
        return make_id_number(COUNTY, date(1940, 1, 1) + timedelta(days=n // 100), 900 + n % 100)

    return nxt


def _prepare(env: dict[str, str], cases: int) -> dict[str, Any]:
    """Extra field officers, and `cases` scheduled cases with the check body each will get (by its officer)."""
    from sqlalchemy import select

    from verifier.accounts.auth import principal_of
    from verifier.accounts.service import add_user
    from verifier.cases import service as case_service
    from verifier.context import Context
    from verifier.referrals import service as referrals
    from verifier.settings import Settings
    from verifier.store.tables import Case, User

    ctx = Context.open(Settings.from_env(env))
    try:
        with ctx.db.read() as session:
            demo_cases = list(session.scalars(select(Case.id).order_by(Case.id)))
            clerk, supervisor = (principal_of(session.scalar(select(User).where(User.username == u)))
                                 for u in ("clerk", "supervisor"))
        with ctx.db.begin() as session:
            officers = [principal_of(add_user(session, username=f"bench{k:02d}", password=PASSWORD,
                                              roles=["field_officer"], counties=[COUNTY], display_name=f"压测核查员{k}",
                                              clock=ctx.clock)) for k in range(OFFICERS)]
        id_number = _id_numbers()
        pairs = OFFICERS // 2
        per_day = 4  # the demo contract's visits per officer and day
        referred = date(2020, 5, 4)
        work: list[tuple[str, str, dict[str, Any]]] = []  # (case id, recording officer's username, check body)
        batch = 50
        for start in range(0, cases, batch):
            with ctx.db.begin() as session:
                for i in range(start, min(cases, start + batch)):
                    pair, day = i % pairs, i // (pairs * per_day)
                    a, b = officers[2 * pair], officers[2 * pair + 1]
                    visit_on = referred + timedelta(days=1 + day)
                    head, spouse = id_number(), id_number()
                    case_id = referrals.enter_application(session, vault=ctx.vault, principal=clerk, clock=ctx.clock,
                                                          payload={
                        "county_code": COUNTY, "id_number": head, "name": f"压测户{i}", "town": "城关镇",
                        "village": "东村", "household_group": "low_income", "cause": "illness", "amount": "20000.00",
                        "referred_on": referred.isoformat()}).case_ids[0]
                    case_service.screen(session, case_id, decision="pass", reason="", principal=clerk,
                                        clock=ctx.clock)
                    case_service.schedule(session, case_id, officers=[a.id, b.id], visit_on=visit_on,
                                          vehicle=f"压测车{pair + 1:02d}", principal=supervisor, clock=ctx.clock)
                    body = {
                        "visited_on": visit_on.isoformat(), "officers": [a.username, b.username],
                        "members": [{"name": f"压测户{i}", "id_number": head, "relation": "head", "labour": "partial"},
                                    {"name": f"压测配偶{i}", "id_number": spouse, "relation": "spouse",
                                     "labour": "full"}],
                        "income": {"wages": "6000.00"}, "rigid_expenditure": {"medical_self_paid": "42000.00"},
                        "stable_income": False,
                        "payee": {"account_name": f"压测户{i}", "bank": "农村商业银行",
                                  "account_number": f"62220202{i:011d}"},  # each household its own
                        "cross_checks": [{"source": "medical_insurance", "finding": "consistent", "note": ""}],
                        # visits of 2020 recorded today: a late entry, which needs its reason
                        "late_entry_reason": "压测：按纸质记录补录",
                    }
                    work.append((case_id, (a if i % 2 == 0 else b).username, body))
        if ctx.db.dialect == "postgresql":
            # The planner's statistics for the rows just written, as autovacuum would gather them on a running server
            # (a server with autovacuum off, as on a CI machine, would otherwise plan the list page blind).
            from sqlalchemy import text

            with ctx.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("ANALYZE"))
        return {"demo_cases": demo_cases, "work": work, "officers": [o.username for o in officers]}
    finally:
        ctx.close()


def _cookies(headers: Any) -> dict[str, str]:
    """The cookies a response sets, by name (value only)."""
    jar = {}
    for value in headers.get_all("set-cookie") or []:
        name, _, rest = value.partition("=")
        jar[name.strip()] = rest.split(";")[0]
    return jar


def _cookie_header(jar: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in jar.items())


class _Server:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = _free_port()
        self._log = open(log, "ab")  # noqa: SIM115 - closed in stop()
        self.log_path = log
        self.process = subprocess.Popen([sys.executable, "-c", CLI, "serve", "--port", str(self.port)], env=env,
                                        stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                if self.call("GET", "/api/health")[0] == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                raise RuntimeError("the server did not start:\n" + log.read_text("utf-8", "replace"))
            time.sleep(0.2)

    def call(self, method: str, path: str, body: bytes | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, bytes, Any]:
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return r.status, r.read(), r.headers
        finally:
            conn.close()

    def token(self, username: str, password: str) -> str:
        status, body, _ = self.call("POST", "/api/auth/login", json.dumps(
            {"username": username, "password": password}).encode(), {"Content-Type": "application/json"})
        assert status == 200, body
        return str(json.loads(body)["token"])

    def page_cookie(self, username: str, password: str) -> str:
        """The cookies a browser holds once it has logged in through the form and opened the list: the session's
        and the form-protection one the first page sets (a browser sends it back, so later pages set none)."""
        form = urllib.parse.urlencode({"username": username, "password": password, "next": "/cases"})
        status, body, headers = self.call("POST", "/login", form.encode(),
                                          {"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 303, body
        jar = _cookies(headers)
        if "verifier_token" not in jar:
            raise AssertionError("the login form set no session cookie")
        status, body, headers = self.call("GET", "/cases", None, {"Cookie": _cookie_header(jar)})
        assert status == 200, body
        jar.update(_cookies(headers))
        return _cookie_header(jar)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()


def _event_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop

        return uvloop.new_event_loop()
    except ImportError:
        return asyncio.new_event_loop()


def run(scale: float = 1.0) -> list[Result]:
    duration = max(2.0, DURATION * scale)
    check_cases = max(200, int(CHECK_CASES * scale))
    with scratch("bench-load-") as site:
        env = site.env
        _cli(env, "init", "--demo")
        prepared = _prepare(env, check_cases)
        server = site.server = _Server(env, site.home / "server.log")
        reader_token = server.token("supervisor", "demo-pass-2020")
        cookie = server.page_cookie("supervisor", "demo-pass-2020")
        tokens = {u: server.token(u, PASSWORD) for u in prepared["officers"]}

        health = [_get("/api/health", {})]
        reads = [_get(f"/api/cases/{cid}", {"Authorization": f"Bearer {reader_token}"})
                 for cid in prepared["demo_cases"]]
        pages = [_get("/cases", {"Cookie": cookie})]
        checks = [_post_json(f"/api/cases/{cid}/check", {"Authorization": f"Bearer {tokens[who]}"},
                             json.dumps(body, ensure_ascii=False).encode("utf-8"))
                  for cid, who, body in prepared["work"]]

        loop = _event_loop()
        try:
            def phase(name: str, nxt: Callable[[], bytes | None], expect: int, warmup: float = WARMUP) -> Phase:
                return loop.run_until_complete(_run_phase(server.port, name, nxt, expect, duration=duration,
                                                          warmup=warmup, clients=CLIENTS))

            measured = [
                phase("health", _cycle(health), 200),
                phase("case_read", _cycle(reads), 200),
                phase("case_list_page", _cycle(pages), 200),
                # No warm-up: every prepared case is recorded once, and each counts.
                phase("check_record", _once(checks), 201, warmup=0.0),
            ]
        finally:
            loop.close()
        site.stop_and_verify("the load")
        base = measured[0]
        base_rate = base.count / base.seconds
        results: list[Result] = []
        for p in measured:
            target, p99_target = TARGETS.get(p.name, (None, None))
            results.append(LoadResult(
                f"load.{p.name}", p.count, "requests", p.seconds, p.count / base_rate,
                f"GET /api/health, {base.count / base.seconds:,.0f}/s", target=target,
                p50=p.percentile(0.50), p99=p.percentile(0.99), p99_target=p99_target))
        return results
