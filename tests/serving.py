"""Real `verifier serve` processes for the tests that need whole processes (several workers, a killed server)."""

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
from pathlib import Path
from typing import Any

from factories import accept_contract, new_id_number

CLI = "from verifier.cli import main; main()"
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def call(base: str, method: str, path: str, body: dict | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict, dict[str, str]]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=60) as r:
            return r.status, json.loads(r.read() or b"{}"), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}"), dict(e.headers)


def clerk_env(home: Path, database_url: str, factory: Any = None) -> dict[str, str]:
    """The environment of a deployment in `home` on `database_url`, initialised (`verifier init` with the repository's
    contracts, run in this process; given the tmp_path_factory, a copy of one init per test process, cli_kit.init_home,
    whose environment names the copy's database on PostgreSQL), the demo contract accepted by the county, the demo's
    list of towns and villages (as `verifier init --demo` imports it, so a referral is checked against it as in any
    deployment) and its town clerk `clerk` (the demo's password): what the servers under test need, without the
    demo's cases."""
    from click.testing import CliRunner

    from verifier.accounts.service import add_user
    from verifier.cli import main
    from verifier.context import Context
    from verifier.demo import DEMO_COUNTY, DEMO_PASSWORD, PLACES
    from verifier.places import county_file
    from verifier.settings import Settings

    env = {k: v for k, v in os.environ.items() if not k.startswith("VERIFIER_")}
    env.update(VERIFIER_HOME=str(home), VERIFIER_DATABASE_URL=database_url)
    if factory is not None:
        from cli_kit import init_home

        init_home(env, factory)
    else:
        done = CliRunner().invoke(main, ["init", "--contracts", str(ROOT / "contracts")], env=env)
        assert done.exit_code == 0, done.output
    ctx = Context.open(Settings.from_env(env))
    try:
        with ctx.db.begin() as session:
            add_user(session, username="clerk", password=DEMO_PASSWORD, roles=["town_clerk"], counties=["340223"],
                     display_name="乡镇经办", clock=ctx.clock)
            accept_contract(session, "demo-2020", ctx.clock)
            county_file.import_places(session, DEMO_COUNTY,
                                      ("乡镇,村\n" + "".join(f"{t},{v}\n" for t, v in PLACES)).encode("utf-8"),
                                      "demo-places.csv", clock=ctx.clock)
    finally:
        ctx.close()
    return env


class Server:
    """`verifier serve` in a process group of its own (so its workers go with it), logging to a file."""

    def __init__(self, env: dict[str, str], log: Path, *extra: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log
        self._log = open(log, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen([sys.executable, "-c", CLI, "serve", "--host", "127.0.0.1", "--port",
                                         str(self.port), *extra], env=env, stdout=self._log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                if call(self.base, "GET", "/api/health")[0] == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                raise RuntimeError("the server did not start:\n" + log.read_text("utf-8", "replace"))
            time.sleep(0.2)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()

    def login(self, username: str = "clerk", password: str = "demo-pass-2020") -> dict[str, str]:
        status, body, _ = call(self.base, "POST", "/api/auth/login", {"username": username, "password": password})
        assert status == 200, body
        return {"Authorization": f"Bearer {body['token']}"}


def application(name: str) -> dict:
    """A clerk's application in the demo county (a fresh person each time)."""
    return {"county_code": "340223", "id_number": new_id_number(), "name": name, "town": "城关镇",
            "village": "东村", "household_group": "low_income", "cause": "illness", "amount": "1000.00",
            "referred_on": "2020-06-01"}
