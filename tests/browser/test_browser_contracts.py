"""The county reviewer at their desk: next year's contract, loaded on the server's command line, waits for them
(待县审核确认); they read its hash and figures in Chinese and accept it with the box ticked, by a double click that
sends it once."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from browserkit import SERVER_HOMES
from desk import Staff

CLI = "from verifier.cli import main; main()"


def _load_next_year(home: Path) -> tuple[str, str]:
    """Next year's contract for the demo county, from the demo's own file, added as `verifier contracts add` does;
    its id and the SHA-256 the command printed."""
    current = sorted((home / "contracts").glob("demo-*.toml"))[-1]
    year = int(current.stem.removeprefix("demo-")) + 1
    text = re.sub(r'(?m)^id = .*$', f'id = "demo-{year}"', current.read_text(encoding="utf-8"))
    text = re.sub(r"(?m)^period = .*$", f"period = {{ start = {year}-01-01, end = {year}-12-31 }}", text)
    text = text.replace('notice_days = 7', 'notice_days = 5')
    path = home / f"next-{year}.toml"
    path.write_text(text, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "VERIFIER_DATABASE_URL"} | {"VERIFIER_HOME": str(home)}
    done = subprocess.run([sys.executable, "-c", CLI, "contracts", "add", str(path)], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "待县审核确认" in done.stdout
    found = re.search(r"sha256 ([0-9a-f]{64})", done.stdout)
    assert found, done.stdout
    return f"demo-{year}", found.group(1)


def test_the_reviewer_reads_a_pending_contract_and_accepts_it(server: str, browser, tmp_path) -> None:  # type: ignore[no-untyped-def]
    contract_id, digest = _load_next_year(SERVER_HOMES[server])
    staff = Staff(browser, server)
    try:
        desk = staff.desk("reviewer", start="/contracts")
        listing = desk.text()
        assert contract_id in listing and "待县审核确认" in listing and "已确认生效" in listing  # this year's: accepted
        desk.follow(f"a[href='/contracts/{contract_id}']")
        shown = desk.text()
        assert digest in shown and "公示期\t5 天" in shown and "县级签批金额" in shown and "最低抽样比例 10%" in shown
        assert "分段累进" in shown and "超过 30,000.00 元的部分：70%" in shown
        desk.page.screenshot(path=str(tmp_path / "contract.png"), full_page=True)
        assert desk.submit("#accept", blocked=True) == 0  # the box not ticked: the browser stops it, nothing is sent
        desk.fill({"#accept input[name=confirm]": True})
        assert desk.submit("#accept", expect=r"done=contract_accepted") == 1
        after = desk.text()
        assert "已确认生效" in after and "县复核 吴刚" in after and desk.page.locator("#accept").count() == 0
    finally:
        staff.close()
