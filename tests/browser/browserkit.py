"""What the browser tests share: Debian's Chromium (Playwright's own browser download cannot work here)."""

from __future__ import annotations

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
DEMO_PASSWORD = "demo-pass-2020"  # what `verifier init --demo` gives its users
