"""What the browser tests share: Debian's Chromium (Playwright's own browser download cannot work here)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Debian's old headless shell (`apt-get install chromium-headless-shell`) where it is installed: the same Chromium
# build as the browser, without its windowing layers; the browser tests render their pages in about half the time
# of `chromium --headless` (test_browser_forms and _lists: 41 s → 21 s on two cores). Else Debian's Chromium itself.
CHROMIUM_SHELL = Path("/usr/bin/chromium-headless-shell")
CHROMIUM = CHROMIUM_SHELL if CHROMIUM_SHELL.exists() else Path("/usr/bin/chromium")
NO_CHROMIUM = (f"the browser tests need Debian's Chromium at {CHROMIUM_SHELL} or /usr/bin/chromium "
               "(apt-get install chromium-headless-shell, or chromium)")
# Each module's server home by its base URL; a file there moves the server's clock on by whole days (the server runs
# `SERVE`, which reads it), for steps that take days of real time (a notice's period).
SERVER_HOMES: dict[str, Path] = {}
CLOCK_DAYS_FILE = "test-clock-days"
SERVE = ("import datetime, os, pathlib\n"
         "from verifier import clock\n"
         "_days = pathlib.Path(os.environ['VERIFIER_HOME']) / " + repr(CLOCK_DAYS_FILE) + "\n"
         "_now = clock.Clock.now\n"
         "def _moved(self):\n"
         "    return _now(self) + datetime.timedelta(days=int(_days.read_text()) if _days.exists() else 0)\n"
         "clock.Clock.now = _moved\n"
         "from verifier.cli import main; main()")


def move_server_days(base: str, days: int) -> None:
    """The server at `base` lives `days` days after the real day from its next request on."""
    (SERVER_HOMES[base] / CLOCK_DAYS_FILE).write_text(str(days), encoding="utf-8")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
DEMO_PASSWORD = "demo-pass-2020"  # what `verifier init --demo` gives its users

# A test process's server starter: one Python that has imported the app once and forks a process for each command
# it is asked to run (`verifier serve` on a module's home, `verifier init --demo`). A forked server is the same
# `verifier serve` as one started afresh (the same code from `main()` on, its own home, database, keys and clock) but
# skips the second or two of imports each fresh Python spends before it listens, for each of the 31 modules.
# It answers one JSON line for each JSON line asked, on its stdin and stdout; it stops what is still running and
# exits when its stdin closes.
_STARTER = r"""
import importlib, json, os, pkgutil, signal, sys, threading, time, traceback
import uvicorn, uvicorn.config, uvicorn.main, uvicorn.server
import verifier, verifier.app, verifier.cli
for found in pkgutil.walk_packages(verifier.__path__, "verifier."):
    if ".migrations" not in found.name and not found.name.endswith("__main__"):
        importlib.import_module(found.name)
assert threading.active_count() == 1, threading.enumerate()  # nothing running that a fork would leave half-copied
answer_fd = sys.stdout.fileno()


def answer(what):
    os.write(answer_fd, (json.dumps(what) + "\n").encode())


def run(asked):
    fd = os.open(asked["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.environ["VERIFIER_HOME"] = asked["home"]
    sys.argv = ["verifier", *asked["args"]]
    code = 1
    try:
        exec(compile(asked["code"], "<command>", "exec"), {"__name__": "__main__"})
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def ended(pid, wait):
    # `pid`'s exit code once it has exited (reaped here once, kept in `exited` after), or None while it runs past
    # `wait` s; a pid this starter never started is not waited for (nor ever signalled: its number may be anyone's).
    if pid in exited:
        return exited[pid]
    if pid not in running:
        raise LookupError(f"no process {pid} was started here")
    deadline = time.monotonic() + wait
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            running.discard(pid)
            exited[pid] = os.waitstatus_to_exitcode(status)
            return exited[pid]
        if time.monotonic() > deadline:
            return None
        time.sleep(0.02)


def signal_running(pid, sig):
    # Only a child not yet reaped is signalled: until it is reaped its pid cannot be given to another process.
    if pid in running:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def stopped(pid, wait):
    # As `terminate()`, then `kill()` past `wait` s: the exit code; one that has already exited keeps its own.
    code = ended(pid, 0)
    if code is None:
        signal_running(pid, signal.SIGTERM)
        code = ended(pid, wait)
    if code is None:
        signal_running(pid, signal.SIGKILL)
        code = ended(pid, 60)
    return code


running = set()
exited = {}
try:
    answer({"ready": True})
    for line in sys.stdin.buffer:
        asked = json.loads(line)
        try:
            if asked["op"] == "start":
                sys.stdout.flush()
                sys.stderr.flush()
                pid = os.fork()
                if pid == 0:
                    run(asked)
                running.add(pid)
                answer({"pid": pid})
            elif asked["op"] == "wait":  # until it exits by itself (a command), or at most `timeout` s
                code = ended(asked["pid"], asked["timeout"])
                if code is None:
                    signal_running(asked["pid"], signal.SIGKILL)
                    ended(asked["pid"], 60)
                answer({"code": code})
            elif asked["op"] == "running":
                code = ended(asked["pid"], 0)
                answer({"running": code is None, "code": code})
            elif asked["op"] == "stop":  # as `terminate()` then `kill()` after 10 s
                answer({"code": stopped(asked["pid"], 10)})
            else:
                raise ValueError(f"no such op: {asked['op']!r}")
        except Exception:
            answer({"error": traceback.format_exc()})
finally:
    for pid in list(running):
        signal_running(pid, signal.SIGTERM)
    for pid in list(running):
        stopped(pid, 10)
"""


class Starter:
    """The test process's server starter (`_STARTER`), started with the first browser module and stopped when the
    process turns to tests outside this folder (conftest.py, as its Chromium)."""

    process: subprocess.Popen[bytes] | None = None
    errors: Path | None = None

    @classmethod
    def ask(cls, **asked: object) -> dict:  # type: ignore[type-arg]
        """The starter's answer to `asked`. A starter that has stopped is replaced by a new one for the next
        question (the question it could not answer fails with what it wrote), so one failure costs one module."""
        import json
        import tempfile

        if cls.process is not None and cls.process.poll() is not None:
            cls._drop()
        if cls.process is None:
            fd, name = tempfile.mkstemp(prefix="verifier-starter-", suffix=".log")
            cls.errors = Path(name)
            with os.fdopen(fd, "wb") as errors:
                cls.process = subprocess.Popen([sys.executable, "-c", _STARTER], env=_bare_env(), stdin=subprocess.PIPE,
                                               stdout=subprocess.PIPE, stderr=errors)
            cls._answer()
        assert cls.process is not None and cls.process.stdin is not None
        try:
            cls.process.stdin.write((json.dumps(asked) + "\n").encode())
            cls.process.stdin.flush()
        except BrokenPipeError:
            raise RuntimeError("the server starter stopped:\n" + cls._drop()) from None
        answered = cls._answer()
        if "error" in answered:
            raise RuntimeError(f"the server starter could not do {asked.get('op')!r}:\n" + str(answered["error"]))
        return answered

    @classmethod
    def _answer(cls) -> dict:  # type: ignore[type-arg]
        import json

        assert cls.process is not None and cls.process.stdout is not None and cls.errors is not None
        line = cls.process.stdout.readline()
        if not line:
            raise RuntimeError("the server starter stopped:\n" + cls._drop())
        return dict(json.loads(line))

    @classmethod
    def _drop(cls) -> str:
        """Forget a starter that has stopped (or is stopping), the next `ask` starting a new one: what it wrote."""
        process, errors, cls.process, cls.errors = cls.process, cls.errors, None, None
        if process is not None:
            for pipe in (process.stdin, process.stdout):
                try:
                    if pipe is not None:
                        pipe.close()
                except OSError:
                    pass
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()  # the one process this class started
                process.wait()
        written = ""
        if errors is not None:
            written = errors.read_text("utf-8", "replace") if errors.exists() else ""
            errors.unlink(missing_ok=True)
        return written

    @classmethod
    def close(cls) -> None:
        """Stop the starter (closing its stdin: it stops what still runs and exits)."""
        cls._drop()

    @classmethod
    def run(cls, code: str, args: list[str], home: Path, log: Path, timeout: float = 120) -> int:
        """Run `code` (`main()` of the command line, say) with `args` in `home`, forked, to its end: its exit code;
        what it wrote is in `log`; killed past `timeout` s."""
        pid = cls.ask(op="start", code=code, args=args, home=str(home), log=str(log))["pid"]
        code = cls.ask(op="wait", pid=pid, timeout=timeout)["code"]
        if code is None:
            raise TimeoutError(f"{args} ran past {timeout} s:\n" + log.read_text("utf-8", "replace"))
        return int(code)


def _bare_env() -> dict[str, str]:
    """The environment the servers start from: the test process's, without its database or home."""
    return {k: v for k, v in os.environ.items() if k not in ("VERIFIER_DATABASE_URL", "VERIFIER_HOME")}


def log_in_at(page, base: str, username: str, target: str) -> None:  # type: ignore[no-untyped-def]
    """Log in as a demo user on the way to `target` (a path), and wait until it shows."""
    page.goto(base + "/login?next=" + target)
    page.fill("#f-username", username)
    page.fill("#f-password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + target)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(home: Path, database_url: str | None = None) -> Iterator[str]:
    """`verifier serve` on `home` (its keys; its database, or `database_url`: a test's own, built with the kits
    through `ctx`) on a free port, until the block ends: its base URL."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    SERVER_HOMES[base] = home
    code = SERVE if database_url is None else (
        f"import os\nos.environ['VERIFIER_DATABASE_URL'] = {database_url!r}\n" + SERVE)
    pid = Starter.ask(op="start", code=code, args=["serve", "--host", "127.0.0.1", "--port", str(port)],
                      home=str(home), log=str(home / "server.log"))["pid"]
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/api/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if not Starter.ask(op="running", pid=pid)["running"] or time.monotonic() > deadline:
                raise RuntimeError("the server did not start:\n" + (home / "server.log").read_text("utf-8", "replace"))
            time.sleep(0.1)
        yield base
    finally:
        Starter.ask(op="stop", pid=pid)  # the one process this block had started
