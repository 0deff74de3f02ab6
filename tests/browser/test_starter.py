"""The server starter (browserkit.Starter) after a server that exits at once: stopping it answers its exit code
without signalling anything, and the next server starts (one failed start costs its own module, not the process's
later modules). No Chromium: the commands here are small Python programs forked from the starter."""

from __future__ import annotations

import time
from pathlib import Path

from browserkit import Starter

EXITS = "import sys; print('exits at once'); sys.exit(3)"
WAITS = ("import os, pathlib, time; (pathlib.Path(os.environ['VERIFIER_HOME']) / 'up').write_text('up'); "
         "time.sleep(120)")


def _start(code: str, home: Path, log: str) -> int:
    return int(Starter.ask(op="start", code=code, args=[], home=str(home), log=str(home / log))["pid"])


def _ended(pid: int) -> dict:  # type: ignore[type-arg]
    deadline = time.monotonic() + 30
    while (now := Starter.ask(op="running", pid=pid))["running"]:
        assert time.monotonic() < deadline, "the command did not exit"
        time.sleep(0.05)
    return now


def test_a_server_that_exited_at_once_is_stopped_by_its_exit_code_and_the_next_server_starts(tmp_path: Path) -> None:
    first = _start(EXITS, tmp_path, "first.log")
    assert _ended(first) == {"running": False, "code": 3}  # reaped by `running`, as the server fixture asks
    assert Starter.ask(op="stop", pid=first) == {"code": 3}  # the fixture's finally: nothing signalled
    assert Starter.ask(op="wait", pid=first, timeout=1) == {"code": 3}
    starter = Starter.process
    second = _start(WAITS, tmp_path, "second.log")
    assert Starter.process is starter  # the same starter answers
    deadline = time.monotonic() + 30
    while not (tmp_path / "up").exists():
        assert time.monotonic() < deadline, (tmp_path / "second.log").read_text("utf-8", "replace")
        time.sleep(0.05)
    assert Starter.ask(op="running", pid=second)["running"]
    assert Starter.ask(op="stop", pid=second) == {"code": -15}  # SIGTERM
    assert Starter.run("import sys; sys.exit(0)", [], tmp_path, tmp_path / "third.log") == 0


def test_a_pid_the_starter_never_started_is_refused_not_signalled(tmp_path: Path) -> None:
    import os

    import pytest

    with pytest.raises(RuntimeError, match="no process"):
        Starter.ask(op="stop", pid=os.getpid())
    assert Starter.run("import sys; sys.exit(0)", [], tmp_path, tmp_path / "after.log") == 0


def test_a_starter_that_stopped_is_replaced_for_the_next_question(tmp_path: Path) -> None:
    Starter.run("import sys; sys.exit(0)", [], tmp_path, tmp_path / "before.log")
    gone = Starter.process
    assert gone is not None
    gone.kill()  # the starter this process started, as if it had died
    gone.wait()
    assert Starter.run("import sys; sys.exit(0)", [], tmp_path, tmp_path / "after.log") == 0
    assert Starter.process is not gone
