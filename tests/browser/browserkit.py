"""What the browser tests share: Debian's Chromium (Playwright's own browser download cannot work here)."""

from __future__ import annotations

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
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


def log_in_at(page, base: str, username: str, target: str) -> None:  # type: ignore[no-untyped-def]
    """Log in as a demo user on the way to `target` (a path), and wait until it shows."""
    page.goto(base + "/login?next=" + target)
    page.fill("#f-username", username)
    page.fill("#f-password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + target)
