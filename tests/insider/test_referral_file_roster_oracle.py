"""An importer's bureau file as an oracle on the county's roster (防返贫监测名单).

A bureau's file without household groups takes each row's from the county's roster, and each row is then checked
against the contract, a bad row refusing the whole file (nothing written) with its problem. Where the contract's
answer depends on the group (a contract serving one group only), a refused file tells, row by row, the roster's
group for whole ID numbers the importer typed (服务合同 … 不含非贫低收入户 for the one group, nothing for the other):
files made to fail would read the roster, and unmask a masked number, without a limit and without a trace. Such
rows of a refused file are now counted per importer, distinct numbers in the login window
(`referrals/roster_probes.py`, FILE_ALLOWANCE); past it the refusal is withheld (429). Rows whose answer does not
depend on the group (the demo contract serves each cause for both groups) count nothing, nor does a file taken in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from factories import accept_contract, new_id_number
from roster_kit import post_confirmed, referral_csv_without_groups, roster_csv
from web.pagekit import Pages

from verifier.contract import check_contract_text
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


def test_attack_importer_reads_the_roster_through_refused_files(ctx: Any, client: Any, users: Any) -> None:
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
    assert r.status_code == 422, r.text
    # Under the narrow contract: a person not on the roster (非贫低收入户) is refused, one who left poverty is not.
    candidates = [new_id_number() for _ in range(per_window)]
    r = _post(client, sup, NARROW, candidates)
    assert r.status_code == 422 and "不含非贫低收入户" in r.text, r.text
    r = _post(client, sup, NARROW, candidates)  # sent again: the same numbers, counted once
    assert r.status_code == 422, r.text
    r = _post(client, sup, NARROW, [exited, candidates[0]])  # the 61st distinct number: the answer withheld
    assert r.status_code == 429, r.text
    assert "过于频繁" in r.json()["detail"] and int(r.headers["Retry-After"]) > 0 and "不含" not in r.text
    # The import page says the same, nothing of the rows.
    pages = Pages(client, users)
    pages.login("sup")
    r = pages.post("/referrals/import", {"channel": "medical_insurance", "county_code": NARROW},
                   files={"file": ("医保局.csv", referral_csv_without_groups([exited, candidates[1]]), "text/csv")})
    assert r.status_code == 429 and "过于频繁" in r.text and "不含" not in r.text, r.text[-1500:]
    r = _post(client, sup, NARROW, candidates[:3])  # numbers counted already: still answered
    assert r.status_code == 422, r.text
    # Once the window has passed, the importer's files are answered again; one taken in counts nothing.
    ctx.clock.advance(minutes=ctx.settings.login_window_minutes, seconds=1)
    r = _post(client, sup, NARROW, [exited])
    assert r.status_code == 201, r.text
