"""A real server for the browser tests: `verifier init --demo` in a temporary home, then `verifier serve` on a free
port, in a subprocess (stopped after the module). Chromium is Debian's: Playwright's own download cannot work here."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest

CLI = "from verifier.cli import main; main()"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:  # type: ignore[no-untyped-def]
    home = tmp_path_factory.mktemp("verifier-home")
    env = {k: v for k, v in os.environ.items() if k != "VERIFIER_DATABASE_URL"}
    env["VERIFIER_HOME"] = str(home)
    subprocess.run([sys.executable, "-c", CLI, "init", "--demo"], env=env, check=True, capture_output=True, timeout=120)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with open(home / "server.log", "wb") as log:
        process = subprocess.Popen([sys.executable, "-c", CLI, "serve", "--host", "127.0.0.1", "--port", str(port)],
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
