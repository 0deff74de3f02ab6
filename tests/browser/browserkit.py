"""What the browser tests share: Debian's Chromium (Playwright's own browser download cannot work here)."""

from __future__ import annotations

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
DEMO_PASSWORD = "demo-pass-2020"  # what `verifier init --demo` gives its users


def log_in_at(page, base: str, username: str, target: str) -> None:  # type: ignore[no-untyped-def]
    """Log in as a demo user on the way to `target` (a path), and wait until it shows."""
    page.goto(base + "/login?next=" + target)
    page.fill("#f-username", username)
    page.fill("#f-password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + target)
