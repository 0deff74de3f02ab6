"""A real server for the browser tests: `verifier init --demo` in a temporary home (once, copied for each module),
then `verifier serve` on a free port, in a subprocess (stopped after the module). Chromium is Debian's: Playwright's
own download cannot work here; `browser` is one Chromium per module (Playwright's sync API runs one at a time)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from browserkit import SERVE, SERVER_HOMES

CLI = "from verifier.cli import main; main()"
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items) -> None:  # type: ignore[no-untyped-def]
    """Every test here is a `browser` test: its server runs on SQLite in its own home whatever database the rest of
    the run uses, so the run on PostgreSQL (VERIFIER_TEST_DATABASE_URL) skips them: they ran in the SQLite pass.
    `-m "not browser"` leaves them out of any run."""
    import os

    on_postgresql = bool(os.environ.get("VERIFIER_TEST_DATABASE_URL"))
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)
            if on_postgresql:
                item.add_marker(pytest.mark.skip(reason="the browser tests' server runs on SQLite: they run in the "
                                                        "SQLite pass, not again here"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "VERIFIER_DATABASE_URL"}
    env["VERIFIER_HOME"] = str(home)
    return env


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    """`verifier init --demo` once per run; each module's server starts from a copy of it (a few seconds saved per
    module on a busy machine, and every module still sees the demo as loaded)."""
    home = tmp_path_factory.mktemp("verifier-demo")
    subprocess.run([sys.executable, "-c", CLI, "init", "--demo"], env=_env(home), check=True, capture_output=True,
                   timeout=180)
    return home


@pytest.fixture(scope="module")
def server(tmp_path_factory, demo_home: Path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    home = tmp_path_factory.mktemp("verifier-home")
    shutil.copytree(demo_home, home, dirs_exist_ok=True)
    env = _env(home)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with open(home / "server.log", "wb") as log:
        SERVER_HOMES[base] = home
        process = subprocess.Popen([sys.executable, "-c", SERVE, "serve", "--host", "127.0.0.1", "--port", str(port)],
                                   env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.urlopen(base + "/api/health", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the server did not start:\n"
                                       + (home / "server.log").read_text("utf-8", "replace"))
                time.sleep(0.2)
            yield base
        finally:
            process.terminate()  # the one process this fixture started
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    from browserkit import CHROMIUM, CHROMIUM_ARGS

    if not CHROMIUM.exists():
        pytest.skip(f"the browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the browser tests need the playwright package")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()
