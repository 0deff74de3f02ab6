"""An importer's bureau file as an oracle on the county's roster (防返贫监测名单).

A bureau's file without household groups takes each row's from the county's roster, and each row is then checked
against the contract, a bad row refusing the whole file (nothing written) with its problem. Where the contract's
answer depends on the group (a contract serving one group only), a refused file tells, row by row, the roster's
group for whole ID numbers the importer typed (服务合同 … 不含非贫低收入户 for the one group, nothing for the other):
files made to fail would read the roster, and unmask a masked number, without a limit and without a trace. Such
rows of a refused file are answered per importer while the allowance lasts, distinct numbers in the login window
(`referrals/roster_probes.py`, FILE_ALLOWANCE, counted); past it each is named 需核对, whatever the roster says, the
file's other errors in full, so that a bureau's large file still gets every row that may be wrong back. Each such
refusal is on record with its rows compared and withheld. Rows whose answer does not depend on the group (the demo
contract serves each cause for both groups) count nothing, nor does a file taken in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from factories import accept_contract, new_id_number
from roster_kit import post_confirmed, referral_csv_without_groups, roster_csv
from sqlalchemy import select
from web.pagekit import Pages

from verifier.audit.canonical import decode_entry
from verifier.audit.models import AuditEntry
from verifier.contract import check_contract_text
from verifier.referrals import roster_probes
from verifier.store import contracts as contract_store

NARROW = "340224"  # a county whose contract serves households that left poverty only
DEMO = (Path(__file__).resolve().parents[2] / "contracts" / "demo-2020.toml").read_text("utf-8")
ILLNESS_LOW_INCOME = '''[[relief]]
cause = "illness"
group = "low_income"'''


def _narrow_contract(ctx: Any) -> None:
    start = DEMO.index(ILLNESS_LOW_INCOME)
    end = DEMO.index("[[relief]]", start + 1)
    text = (DEMO[:start] + DEMO[end:]).replace('id = "demo-2020"', 'id = "narrow-2020"', 1).replace(
        'county_codes = ["340223"]', f'county_codes = ["{NARROW}"]', 1).replace(
        'groups = ["exited_low_standard", "low_income"]', 'groups = ["exited_low_standard"]', 1)
    contract, problems = check_contract_text(text.encode("utf-8"))
    assert contract is not None, problems
    with ctx.db.begin() as session:
        contract_store.add_contract(session, contract, actor="admin", role="admin", clock=ctx.clock)
        accept_contract(session, contract.id, ctx.clock)


def _post(client: Any, headers: dict[str, str], county: str, people: list[str], extra: str = "") -> Any:
    data = referral_csv_without_groups(people) + extra.encode("utf-8")
    return client.post("/api/referrals/imports", headers=headers, files={"file": ("医保局.csv", data, "text/csv")},
                       data={"channel": "medical_insurance", "county_code": county})


def _errors(r: Any) -> dict[int, list[str]]:
    """The refusal's errors of rows: row → messages."""
    rows: dict[int, list[str]] = {}
    for e in r.json()["errors"]:
        rows.setdefault(e["row"], []).append(e["message"])
    return rows


def _not_served(r: Any) -> int:
    """How many rows the refusal says the contract does not serve (the roster's answer for them)."""
    return sum("不含非贫低收入户" in m for ms in _errors(r).values() for m in ms)


def _withheld(message: str) -> bool:
    return message.startswith("需核对") and "不含" not in message and "户类型" in message


def _records(ctx: Any) -> list[dict[str, Any]]:
    with ctx.db.read() as session:
        return [decode_entry(e).payload for e in session.scalars(
            select(AuditEntry.entry).where(AuditEntry.action == roster_probes.ACTION).order_by(AuditEntry.idx))]


def test_attack_importer_reads_the_roster_through_many_small_refused_files(ctx: Any, client: Any,
                                                                            users: Any) -> None:
    per_window = ctx.settings.id_lookups_per_window  # 60 by default
    _narrow_contract(ctx)
    users.add("rev", "county_reviewer", counties=(NARROW,))
    users.add("sup", "insurer_supervisor", counties=(NARROW, "340223"))
    users.add("rev0", "county_reviewer", counties=("340223",))
    exited = new_id_number()
    post_confirmed(client, ctx, users.headers("rev"), roster_csv([(exited, "脱贫户")]), county=NARROW)
    post_confirmed(client, ctx, users.headers("rev0"), roster_csv([(exited, "脱贫户")]))
    sup = users.headers("sup")
    # Under the demo contract (each cause for both groups) a refused file's rows tell nothing: counted nothing.
    bad_row = f"{new_id_number()},患者,城关镇,东村,因病,不是金额,2020-05-20\n"
    r = _post(client, sup, "340223", [new_id_number() for _ in range(per_window + 5)], bad_row)
    assert r.status_code == 422 and not any(_withheld(m) for ms in _errors(r).values() for m in ms), r.text
    assert _records(ctx) == []
    # Under the narrow contract: a person not on the roster (非贫低收入户) is refused, one who left poverty is not;
    # each file made to fail (a bad amount on its last row), five numbers a file, answered while the allowance lasts.
    candidates = [new_id_number() for _ in range(per_window)]
    for i in range(0, per_window, 5):
        r = _post(client, sup, NARROW, candidates[i:i + 5], bad_row)
        assert r.status_code == 422 and _not_served(r) == 5, r.text
    r = _post(client, sup, NARROW, candidates[:5], bad_row)  # sent again: the same numbers, counted once
    assert r.status_code == 422 and _not_served(r) == 5, r.text
    # The 61st distinct number on: the roster's answer withheld, each row named alike whatever its group.
    said = []
    for person in (exited, new_id_number()):
        r = _post(client, sup, NARROW, [person], bad_row)
        assert r.status_code == 422 and "Retry-After" not in r.headers, r.text
        rows = _errors(r)
        assert _withheld(rows[2][0]) and len(rows[2]) == 1 and "不含" not in r.text, r.text
        assert rows[3] and not any(_withheld(m) for m in rows[3]), rows  # the bad amount still said
        said.append(rows[2])
    assert said[0] == said[1]
    # The import page says the same, nothing of the roster.
    pages = Pages(client, users)
    pages.login("sup")
    data = referral_csv_without_groups([exited, candidates[1]]) + bad_row.encode("utf-8")
    r = pages.post("/referrals/import", {"channel": "medical_insurance", "county_code": NARROW},
                   files={"file": ("医保局.csv", data, "text/csv")})
    assert r.status_code == 422 and "需核对" in r.text and r.text.count("不含非贫低收入户") == 1, r.text[-3000:]
    # Each refusal is on record: its rows compared and withheld, its numbers counted; never a number.
    records = _records(ctx)
    assert [(p["rows_compared"], p["rows_withheld"], p["numbers_counted"]) for p in records] == (
        [(5, 0, 5)] * (per_window // 5) + [(5, 0, 0), (0, 1, 0), (0, 1, 0), (1, 1, 0)])
    assert all(p["county_code"] == NARROW and len(p["file_sha256"]) == 64 for p in records)
    assert exited not in str(records) and candidates[0] not in str(records)
    # Once the window has passed, the importer's files are answered again; one taken in counts nothing.
    ctx.clock.advance(minutes=ctx.settings.login_window_minutes, seconds=1)
    r = _post(client, sup, NARROW, [exited, candidates[0]], bad_row)
    assert r.status_code == 422 and _not_served(r) == 1 and "需核对" not in r.text, r.text
    r = _post(client, sup, NARROW, [exited])
    assert r.status_code == 201, r.text


def test_a_bureaus_large_file_gets_every_row_back(ctx: Any, client: Any, users: Any) -> None:
    """A bureau's monthly file of 200 rows, half of them people on no roster (the narrow contract does not serve
    them), refused: the first rows within the allowance answered as ever, every other row that may be wrong named
    需核对, by the API and the import page alike; nothing written."""
    per_window = ctx.settings.id_lookups_per_window
    _narrow_contract(ctx)
    users.add("rev", "county_reviewer", counties=(NARROW,))
    users.add("sup", "insurer_supervisor", counties=(NARROW,))
    users.add("sup2", "insurer_supervisor", counties=(NARROW,))
    exited = [new_id_number() for _ in range(100)]
    low = [new_id_number() for _ in range(100)]
    post_confirmed(client, ctx, users.headers("rev"), roster_csv([(n, "脱贫户") for n in exited]), county=NARROW)
    people = [n for pair in zip(exited, low) for n in pair]  # row 2 + i names people[i]
    r = _post(client, users.headers("sup"), NARROW, people)
    assert r.status_code == 422, r.text[:500]
    rows = _errors(r)
    answered = {i + 2 for i in range(per_window)}
    for i, person in enumerate(people):
        row = i + 2
        if row in answered:
            assert rows.get(row, []) == ([] if person in exited else rows[row]), (row, rows.get(row))
            assert person in exited or "不含非贫低收入户" in rows[row][0], (row, rows.get(row))
        else:
            assert len(rows[row]) == 1 and _withheld(rows[row][0]), (row, rows.get(row))
    assert len(rows) == per_window // 2 + len(people) - per_window
    assert _records(ctx) == [{"county_code": NARROW, "channel": "medical_insurance",
                              "file_sha256": _records(ctx)[0]["file_sha256"], "rows_compared": per_window,
                              "rows_withheld": len(people) - per_window, "numbers_counted": per_window}]
    # The import page lists each of them, as it lists any bad row.
    pages = Pages(client, users)
    pages.login("sup2")
    r = pages.post("/referrals/import", {"channel": "medical_insurance", "county_code": NARROW},
                   files={"file": ("医保局.csv", referral_csv_without_groups(people), "text/csv")})
    assert r.status_code == 422 and f"共 {len(rows)} 处问题" in r.text, r.text[-3000:]
    assert r.text.count("需核对") == len(people) - per_window and r.text.count("不含非贫低收入户") == per_window // 2
    # Nothing written; the file without the people the contract does not serve is taken in, past the allowance too.
    r = _post(client, users.headers("sup"), NARROW, exited)
    assert r.status_code == 201 and r.json()["new_cases"] == 100, r.text
