"""A contract loaded by whoever holds the server's shell: the insurer's administrator could load a "new version" with
raised tiers, a lowered sign-off threshold or a smaller sample, and the county would never have agreed to it. A loaded
contract is pending (待县审核确认) and prices nothing until a county reviewer of every county it covers accepts it,
having seen its figures; a refused one never comes into force; an accepted one cannot be un-accepted."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from factories import make_case
from sqlalchemy import select

from verifier.audit.models import AuditEntry
from verifier.contract import check_contract_text
from verifier.store import contracts as contract_store
from verifier.store.tables import Case, ContractDecision, Member

DEMO = (Path(__file__).resolve().parents[2] / "contracts" / "demo-2020.toml").read_text(encoding="utf-8")
RAISED = 'bands = [ { upto = "10000.00", rate = "0.90" }, { upto = "30000.00", rate = "0.95" }, { rate = "1.00" } ]'


def _load(ctx: Any, contract_id: str, counties: list[str], *, raised: bool = True) -> Any:
    """What `verifier contracts add` does with a file from the insurer's administrator: the demo's terms for these
    counties, the first illness tiers raised to 90%, 95% and 100% and the sign-off threshold lowered to 1 yuan."""
    text = re.sub(r'(?m)^id = .*$', f'id = "{contract_id}"', DEMO)
    text = re.sub(r'(?m)^county_codes = .*$', "county_codes = [" + ", ".join(f'"{c}"' for c in counties) + "]", text)
    if raised:
        text = text.replace('bands = [ { upto = "10000.00", rate = "0.50" }, { upto = "30000.00", rate = "0.60" }, '
                            '{ rate = "0.70" } ]', RAISED, 1)
        text = text.replace('county_signoff_at = "200000.00"', 'county_signoff_at = "1.00"')
    contract, problems = check_contract_text(text.encode("utf-8"))
    assert contract is not None, problems
    with ctx.db.begin() as session:
        assert contract_store.add_contract(session, contract, actor="system", role="admin", clock=ctx.clock)
    return contract


def _supervisor(users: Any, county: str) -> dict[str, str]:
    name = f"sup-{county}"
    if name not in users.ids:
        users.add(name, "insurer_supervisor", counties=(county,))
    return users.headers(name)


def _determine(client: Any, users: Any, case_id: str, county: str, confirm: bool = True) -> Any:
    return client.post(f"/api/cases/{case_id}/determination", headers=_supervisor(users, county),
                       json={"confirm": confirm})


def test_attack_an_insurer_admin_loads_raised_tiers_and_nothing_is_priced_until_the_county_accepts(
        ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    contract = _load(ctx, "raised-2020", ["340224"])
    case_id = make_case(ctx, stage="checked", county="340224")  # referrals are taken in; nothing is priced

    for confirm in (False, True):
        r = _determine(client, users, case_id, "340224", confirm)
        assert r.status_code == 409, r.text
        assert "服务合同 raised-2020" in r.json()["detail"] and "待县审核确认" in r.json()["detail"], r.text
    with ctx.db.read() as session:
        assert session.get(Case, case_id).status == "checked"

    # Nobody but a county reviewer of the county accepts it.
    users.add("reviewer-other", "county_reviewer", counties=("340223",))
    users.add("admin-all", "admin")
    users.add("insurer-sup", "insurer_supervisor", counties=("340224",))
    users.add("finance-324", "finance", counties=("340224",))
    r = client.post("/api/contracts/raised-2020/accept", headers=users.headers("reviewer-other"), json={})
    assert r.status_code == 404, r.text  # another county's reviewer: as if it did not exist
    for who in ("admin-all", "insurer-sup", "finance-324"):
        r = client.post("/api/contracts/raised-2020/accept", headers=users.headers(who), json={})
        assert r.status_code == 403, (who, r.text)
    with ctx.db.read() as session:
        assert contract_store.status_of(session, "raised-2020") == "pending"
        assert not session.scalars(select(ContractDecision).where(ContractDecision.contract_id == "raised-2020")).all()

    # The reviewer of the county sees what they would agree to, in Chinese, with the hash to compare with the paper.
    users.add("reviewer", "county_reviewer", counties=("340224",))
    shown = client.get("/api/contracts/raised-2020", headers=users.headers("reviewer"))
    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert body["status"] == "pending" and body["status_zh"] == "待县审核确认"
    assert body["content_hash"] == contract.content_hash == hashlib.sha256(contract.source.encode()).hexdigest()
    assert body["start"] == "2020-01-01" and body["end"] == "2020-12-31" and body["answerable"] == ["340224"]
    terms = dict(body["terms"])
    assert terms["收入线"] == "家庭年人均纯收入不高于 5,200.00 元" and terms["公示期"] == "7 天"
    assert "1.00 元" in terms["县级签批金额"] and "最低抽样比例 10%" in terms["抽样复核"]
    illness = next(x for x in body["relief"] if x["cause"] == "因病" and x["group"] == "非高标准脱贫户")
    assert illness["bands"] == ["0.00 至 10,000.00 元：90%", "10,000.00 至 30,000.00 元：95%",
                                "超过 30,000.00 元的部分：100%"]
    assert illness["deductible"] == "5,000.00 元" and illness["caps"] == "每户每年 100,000.00 元"
    listed = client.get("/api/contracts", headers=users.headers("reviewer")).json()
    assert [c["id"] for c in listed] == ["raised-2020"]  # only the contracts of the reader's counties
    assert client.get("/api/contracts/raised-2020", headers=users.headers("reviewer-other")).status_code == 404

    # A hash that is not this contract's is refused: the reviewer did not compare the one loaded.
    r = client.post("/api/contracts/raised-2020/accept", headers=users.headers("reviewer"),
                    json={"content_hash": "0" * 64})
    assert r.status_code == 422, r.text
    r = client.post("/api/contracts/raised-2020/accept", headers=users.headers("reviewer"),
                    json={"content_hash": contract.content_hash})
    assert r.status_code == 200 and r.json()["status"] == "accepted", r.text
    assert r.json()["counties"][0]["decision"] == "accepted"

    # Accepted, it prices (the county agreed to these tiers), and it cannot be un-accepted.
    r = _determine(client, users, case_id, "340224")
    assert r.status_code == 200 and r.json()["eligible"], r.text
    r = client.post("/api/contracts/raised-2020/reject", headers=users.headers("reviewer"), json={"reason": "反悔"})
    assert r.status_code == 409 and "确认不能撤回" in r.json()["detail"], r.text
    with ctx.db.read() as session:
        accepted = session.scalars(select(AuditEntry).where(AuditEntry.subject == "raised-2020",
                                                            AuditEntry.action == "contract.accept")).all()
    assert [(e.actor, e.role) for e in accepted] == [(users.ids["reviewer"], "county_reviewer")]


def test_a_contract_of_two_counties_needs_a_reviewer_of_each(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    _load(ctx, "two-2020", ["340225", "340226"], raised=False)
    case_id = make_case(ctx, stage="checked", county="340226")
    users.add("rev-25", "county_reviewer", counties=("340225",))
    users.add("rev-26", "county_reviewer", counties=("340226",))
    r = client.post("/api/contracts/two-2020/accept", headers=users.headers("rev-25"))
    assert r.status_code == 200 and r.json()["status"] == "pending", r.text
    assert [c["decision"] for c in r.json()["counties"]] == ["accepted", None]
    r = client.post("/api/contracts/two-2020/accept", headers=users.headers("rev-25"))
    assert r.status_code == 409, r.text  # one county answers once
    assert _determine(client, users, case_id, "340226").status_code == 409
    r = client.post("/api/contracts/two-2020/accept", headers=users.headers("rev-26"))
    assert r.status_code == 200 and r.json()["status"] == "accepted", r.text
    assert _determine(client, users, case_id, "340226").status_code == 200


def test_a_refused_contract_never_prices_and_frees_its_period(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    _load(ctx, "refused-2020", ["340227"])
    case_id = make_case(ctx, stage="checked", county="340227")
    users.add("rev-27", "county_reviewer", counties=("340227",))
    r = client.post("/api/contracts/refused-2020/reject", headers=users.headers("rev-27"), json={"reason": "  "})
    assert r.status_code == 422, r.text
    r = client.post("/api/contracts/refused-2020/reject", headers=users.headers("rev-27"),
                    json={"reason": "因病分段比例与签署的纸质合同不符"})
    assert r.status_code == 200 and r.json()["status"] == "refused", r.text
    assert r.json()["counties"][0]["reason"] == "因病分段比例与签署的纸质合同不符"
    r = client.post("/api/contracts/refused-2020/accept", headers=users.headers("rev-27"))
    assert r.status_code == 409, r.text  # refused for good

    r = _determine(client, users, case_id, "340227")
    assert r.status_code == 409 and "refused-2020" in r.json()["detail"] and "拒绝确认" in r.json()["detail"], r.text
    with ctx.db.read() as session:
        assert session.get(Case, case_id).status == "checked"
        refused = session.scalars(select(AuditEntry).where(AuditEntry.action == "contract.refuse")).all()
        assert [e.subject for e in refused] == ["refused-2020"]
        assert contract_store.contract_for(session, "340227", ctx.clock.today()) is None

    # The corrected contract is loaded under a new id for the same period, and waits for the county in turn.
    _load(ctx, "corrected-2020", ["340227"], raised=False)
    with ctx.db.read() as session:
        assert contract_store.status_of(session, "corrected-2020") == "pending"
        assert contract_store.contract_for(session, "340227", ctx.clock.today()).id == "corrected-2020"


def test_cases_waiting_on_a_refused_contract_go_to_the_corrected_one_the_county_accepts(
        ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """A case referred while the refused text was pending would wait for ever, unpriced: the county's acceptance of
    the corrected contract for the same county and period binds it to that one, with an audit entry per case."""
    from verifier.audit.checkpoints import known_keys
    from verifier.audit.verify import verify_log

    _load(ctx, "refused-2020", ["340228"])
    checked = make_case(ctx, stage="checked", county="340228")
    received = make_case(ctx, stage="received", county="340228")
    users.add("rev-28", "county_reviewer", counties=("340228",))
    users.add("sup-page", "insurer_supervisor", counties=("340228",))
    page = client.get(f"/cases/{checked}", headers=users.headers("sup-page"))
    assert page.status_code == 200 and "待县审核确认" in page.text and 'id="contract-waiting"' in page.text
    r = client.post("/api/contracts/refused-2020/reject", headers=users.headers("rev-28"), json={"reason": "比例不符"})
    assert r.status_code == 200, r.text

    # The case page says what the case waits for, in Chinese.
    page = client.get(f"/cases/{checked}", headers=users.headers("sup-page"))
    assert page.status_code == 200, page.text
    assert "服务合同 refused-2020" in page.text and "已被县级复核员拒绝确认" in page.text
    assert "等待县确认更正后的合同" in page.text

    corrected = _load(ctx, "corrected-2020", ["340228"], raised=False)
    with ctx.db.read() as session:  # loaded is not accepted: the cases stay where they are
        assert {session.get(Case, c).contract_id for c in (checked, received)} == {"refused-2020"}
    assert _determine(client, users, checked, "340228").status_code == 409

    r = client.post("/api/contracts/corrected-2020/accept", headers=users.headers("rev-28"), json={})
    assert r.status_code == 200 and r.json()["status"] == "accepted", r.text
    with ctx.db.read() as session:
        for case_id in (checked, received):
            case = session.get(Case, case_id)
            assert (case.contract_id, case.contract_hash) == ("corrected-2020", corrected.content_hash)
        moved = session.scalars(select(AuditEntry).where(AuditEntry.action == "case.contract_rebound")
                                .order_by(AuditEntry.subject)).all()
    assert sorted(e.subject for e in moved) == sorted((checked, received))
    assert {(e.actor, e.role, json.loads(e.entry)["payload"]["from"], json.loads(e.entry)["payload"]["to"])
            for e in moved} == {
        (users.ids["rev-28"], "county_reviewer", "refused-2020", "corrected-2020")}
    page = client.get(f"/cases/{checked}", headers=users.headers("sup-page"))
    assert 'id="contract-waiting"' not in page.text and "corrected-2020" in page.text

    r = _determine(client, users, checked, "340228")
    assert r.status_code == 200 and r.json()["eligible"], r.text
    with ctx.db.read() as session:
        keys = known_keys(session)
    assert verify_log(ctx.db, keys).ok


def _answers(ctx: Any, contract_id: str) -> tuple[str, list[tuple[str, str, str]], int]:
    """What an answer writes: the contract's status, its counties' answers and the audit log's length (but for the
    entries of the accounts the test adds on the way)."""
    with ctx.db.read() as session:
        decisions = session.scalars(select(ContractDecision).where(ContractDecision.contract_id == contract_id)
                                    .order_by(ContractDecision.county_code)).all()
        return (contract_store.status_of(session, contract_id),
                [(d.county_code, d.decision, d.decided_by) for d in decisions],
                len(session.scalars(select(AuditEntry.idx).where(AuditEntry.action.not_like("user.%"))).all()))


def test_attack_a_reviewer_without_a_county_limit_brings_a_contract_of_every_county_into_force_alone(
        ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """A city's reviewer (a county reviewer with no county limit) would answer for every county at once: one person
    alone bringing a raised contract into force. Each county answers through a reviewer limited to it; a contract of
    several counties needs two persons at least; a county with no such reviewer is named and its contract waits."""
    _load(ctx, "city-2020", ["340241", "340242"])
    case_id = make_case(ctx, stage="checked", county="340242")
    users.add("city-rev", "county_reviewer")  # every county
    before = _answers(ctx, "city-2020")

    shown = client.get("/api/contracts/city-2020", headers=users.headers("city-rev")).json()
    assert shown["answerable"] == [] and "不限县（区）" in shown["answer_note"], shown
    assert shown["unreviewed"] == ["340241", "340242"]  # no reviewer limited to either county yet
    for path, body in (("accept", {}), ("accept", {"county_codes": ["340241"]}), ("reject", {"reason": "不同意"})):
        r = client.post(f"/api/contracts/city-2020/{path}", headers=users.headers("city-rev"), json=body)
        assert r.status_code == 403 and "不限县（区）" in r.json()["detail"], (path, r.text)
        assert _answers(ctx, "city-2020") == before
    assert _determine(client, users, case_id, "340242").status_code == 409

    # A reviewer limited to both counties answers for one of them, never for both alone.
    users.add("rev-both", "county_reviewer", counties=("340241", "340242"))
    shown = client.get("/api/contracts/city-2020", headers=users.headers("rev-both")).json()
    assert shown["answerable"] == ["340241", "340242"] and "至少两名" in shown["answer_note"], shown
    for body in ({}, {"county_codes": ["340241", "340242"]}):
        r = client.post("/api/contracts/city-2020/accept", headers=users.headers("rev-both"), json=body)
        assert r.status_code == 409 and "至少两名县级复核员" in r.json()["detail"], r.text
        assert _answers(ctx, "city-2020") == before
    r = client.post("/api/contracts/city-2020/accept", headers=users.headers("rev-both"),
                    json={"county_codes": ["340243"]})
    assert r.status_code == 422 and _answers(ctx, "city-2020") == before, r.text
    r = client.post("/api/contracts/city-2020/accept", headers=users.headers("rev-both"),
                    json={"county_codes": ["340241"]})
    assert r.status_code == 200 and r.json()["status"] == "pending", r.text
    # Nor the rest of it, the next day, by the same person (their limit changed or not).
    r = client.post("/api/contracts/city-2020/accept", headers=users.headers("rev-both"), json={})
    assert r.status_code == 409 and "至少两名县级复核员" in r.json()["detail"], r.text
    after_first = _answers(ctx, "city-2020")
    assert after_first[1] == [("340241", "accepted", users.ids["rev-both"])]
    r = client.post("/api/contracts/city-2020/accept", headers=users.headers("city-rev"), json={})
    assert r.status_code == 403 and _answers(ctx, "city-2020") == after_first, r.text
    assert _determine(client, users, case_id, "340242").status_code == 409

    # The second person: a reviewer limited to the other county.
    users.add("rev-42", "county_reviewer", counties=("340242",))
    r = client.post("/api/contracts/city-2020/accept", headers=users.headers("rev-42"), json={})
    assert r.status_code == 200 and r.json()["status"] == "accepted", r.text
    with ctx.db.read() as session:
        assert {d.decided_by for d in session.scalars(select(ContractDecision).where(
            ContractDecision.contract_id == "city-2020"))} == {users.ids["rev-both"], users.ids["rev-42"]}
    assert _determine(client, users, case_id, "340242").status_code == 200


CAUSES = (Path(__file__).resolve().parents[1] / "contracts" / "disability-2020.toml").read_text(encoding="utf-8")


def _load_causes(ctx: Any, contract_id: str, county: str, illness_channels: str) -> Any:
    """A contract with its own `[[causes]]` (tests/contracts/disability-2020.toml) for `county`, illness referred
    by `illness_channels`, loaded as `verifier contracts add` does: pending."""
    text = re.sub(r'(?m)^id = .*$', f'id = "{contract_id}"', CAUSES)
    text = re.sub(r'(?m)^county_codes = .*$', f'county_codes = ["{county}"]', text)
    text = text.replace('channels = ["medical_insurance", "civil_affairs", "application"]',
                        f"channels = {illness_channels}", 1)
    contract, problems = check_contract_text(text.encode("utf-8"))
    assert contract is not None, problems
    with ctx.db.begin() as session:
        assert contract_store.add_contract(session, contract, actor="system", role="admin", clock=ctx.clock)
    return contract


def test_a_case_moves_to_the_corrected_contract_only_through_a_channel_it_allows(
        ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The corrected contract says which channels refer each cause: a case waiting on the refused one whose every
    referral came through a channel the corrected text no longer allows for its cause would have been refused at
    intake under it. It does not move silently: it stays, its page says why and what to do, the list marks it, and
    the acceptance's audit has a `case.contract_not_rebound` entry for it. A case also referred through an allowed
    channel moves."""
    import io

    from factories import staff

    from verifier.referrals import service as referrals

    county = "340271"
    _load_causes(ctx, "ch-refused-2020", county, '["medical_insurance", "civil_affairs", "application"]')
    applied = make_case(ctx, stage="checked", county=county, head_name="申请甲")  # the household's own application
    bureau = make_case(ctx, stage="received", county=county, head_name="申请乙")
    # The same household also in the civil-affairs bureau's list: one case, two channels.
    with ctx.db.read() as session:
        household_id = session.get(Case, bureau).household_id
        member = session.scalars(select(Member).where(Member.household_id == household_id)).first()
        id_number = ctx.vault.open(member.id_number_enc, "member.id_number")
    csv = ("身份证号,姓名,乡镇,村,户类型,原因,金额,日期\n"
           f"{id_number},申请乙,城关镇,东村,非高标准脱贫户,因病,30000,{ctx.clock.today().isoformat()}\n")
    with ctx.db.begin() as session:
        done = referrals.import_file(session, vault=ctx.vault, source=io.BytesIO(csv.encode("utf-8")),
                                     filename="f.csv", channel="civil_affairs", county_code=county,
                                     principal=staff(ctx, county).supervisor, role="insurer_supervisor",
                                     clock=ctx.clock)
    assert done.new_cases == 0
    users.add("rev-71", "county_reviewer", counties=(county,))
    users.add("sup-71", "insurer_supervisor", counties=(county,))
    r = client.post("/api/contracts/ch-refused-2020/reject", headers=users.headers("rev-71"), json={"reason": "比例不符"})
    assert r.status_code == 200, r.text

    # The corrected text takes illness from the bureaus only: no household's own application.
    corrected = _load_causes(ctx, "ch-fixed-2020", county, '["medical_insurance", "civil_affairs"]')
    r = client.post("/api/contracts/ch-fixed-2020/accept", headers=users.headers("rev-71"), json={})
    assert r.status_code == 200 and r.json()["status"] == "accepted", r.text
    with ctx.db.read() as session:
        assert session.get(Case, applied).contract_id == "ch-refused-2020"  # not moved
        moved = session.get(Case, bureau)
        assert (moved.contract_id, moved.contract_hash) == ("ch-fixed-2020", corrected.content_hash)
        entries = {e.action: e for e in session.scalars(select(AuditEntry).where(
            AuditEntry.action.in_(("case.contract_rebound", "case.contract_not_rebound"))))}
    stayed = json.loads(entries["case.contract_not_rebound"].entry)
    assert entries["case.contract_not_rebound"].subject == applied
    assert stayed["payload"]["channels"] == ["application"] and stayed["payload"]["field"] == "cause"
    assert "不受理来自农户申请的因病转介" in stayed["payload"]["why"]  # intake's problem, as said
    assert json.loads(entries["case.contract_rebound"].entry)["payload"]["channels"] == ["application",
                                                                                         "civil_affairs"]

    # Its page says why and what to do; it is not priced; the list marks it and the filter finds it.
    page = client.get(f"/cases/{applied}", headers=users.headers("sup-71"))
    assert page.status_code == 200 and 'id="contract-waiting"' in page.text, page.text
    assert "县已确认的更正合同 ch-fixed-2020 不能接办本案" in page.text and "不受理来自农户申请的因病转介" in page.text
    assert "确认后自动改按更正合同办理" not in page.text
    r = _determine(client, users, applied, county)
    assert r.status_code == 409 and "ch-refused-2020" in r.json()["detail"], r.text
    listed = client.get("/cases?contract=waiting", headers=users.headers("sup-71"))
    assert listed.status_code == 200 and "申请甲" in listed.text and "申请乙" not in listed.text
    assert "合同被县拒绝" in listed.text
