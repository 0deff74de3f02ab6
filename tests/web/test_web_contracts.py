"""The contracts page: a county reviewer reads a pending contract's figures in Chinese, with its SHA-256, and accepts
it (a ticked box) or refuses it (a reason, kept on error); other roles read it and answer nothing."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from verifier.audit.models import AuditEntry
from verifier.contract import check_contract_text
from verifier.store import contracts as contract_store

DEMO = (Path(__file__).resolve().parents[2] / "contracts" / "demo-2020.toml").read_text(encoding="utf-8")


def _load(ctx, contract_id: str, county: str):  # type: ignore[no-untyped-def]
    text = DEMO.replace('id = "demo-2020"', f'id = "{contract_id}"').replace('"340223"', f'"{county}"')
    text = text.replace('notice_days = 7', 'notice_days = 3')
    contract, problems = check_contract_text(text.encode("utf-8"))
    assert contract is not None, problems
    with ctx.db.begin() as session:
        contract_store.add_contract(session, contract, actor="system", role="admin", clock=ctx.clock)
    return contract


def test_a_reviewer_reads_the_figures_and_accepts_with_the_box_ticked(ctx, pages) -> None:  # type: ignore[no-untyped-def]
    contract = _load(ctx, "page-2020", "340224")
    pages.as_("rev24", "county_reviewer", counties=("340224",))
    listing = pages.get("/contracts")
    assert listing.status_code == 200 and "page-2020" in listing.text and "待县审核确认" in listing.text
    assert "demo-2020" not in listing.text  # another county's contract
    shown = pages.get("/contracts/page-2020").text
    assert contract.content_hash in shown and "2020-01-01 至 2020-12-31" in shown
    assert "公示期</th><td>3 天" in shown and "家庭年人均纯收入不高于 5,200.00 元" in shown
    assert "10,000.00 至 30,000.00 元：60%" in shown and "县级签批金额" in shown and "最低抽样比例 10%" in shown
    assert 'action="/contracts/page-2020/accept"' in shown and "不计算保障金" in shown
    # The status and what it means read as one sentence (it said 待县审核确认 ：在…, a space before the colon).
    assert "<strong>待县审核确认</strong>：在合同所覆盖的每个县（区）" in shown

    r = pages.post("/contracts/page-2020/accept", {})
    assert r.status_code == 422 and "请先勾选确认框" in r.text
    with ctx.db.read() as session:
        assert contract_store.status_of(session, "page-2020") == "pending"
    r = pages.post("/contracts/page-2020/accept", {"confirm": "yes"})
    assert r.status_code == 303 and r.headers["location"] == "/contracts/page-2020?done=contract_accepted", r.text
    after = pages.get(r.headers["location"]).text
    assert "已确认生效" in after and "确认不能撤回" in after and 'action="/contracts/page-2020/accept"' not in after
    with ctx.db.read() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "contract.accept")).all()
    assert [e.subject for e in entries if e.subject == "page-2020"] == ["page-2020"]


def test_a_refusal_needs_a_reason_and_other_roles_answer_nothing(ctx, pages) -> None:  # type: ignore[no-untyped-def]
    _load(ctx, "nope-2020", "340225")
    pages.as_("sup25", "insurer_supervisor", counties=("340225",))
    shown = pages.get("/contracts/nope-2020")
    assert shown.status_code == 200 and "待县审核确认" in shown.text and "/accept" not in shown.text
    assert pages.post("/contracts/nope-2020/accept", {"confirm": "yes"}).status_code == 403

    pages.as_("rev25", "county_reviewer", counties=("340225",))
    r = pages.post("/contracts/nope-2020/refuse", {"reason": "", "confirm": "yes"})
    assert r.status_code == 422 and "请填写拒绝确认的理由" in r.text
    r = pages.post("/contracts/nope-2020/refuse", {"reason": "公示期与纸质合同不符"})
    assert r.status_code == 422 and "请先勾选确认框" in r.text and "公示期与纸质合同不符" in r.text  # kept as typed
    r = pages.post("/contracts/nope-2020/refuse", {"reason": "公示期与纸质合同不符", "confirm": "yes"})
    assert r.status_code == 303, r.text
    after = pages.get(r.headers["location"]).text
    assert "县审核拒绝，不生效" in after and "公示期与纸质合同不符" in after
    r = pages.post("/contracts/nope-2020/accept", {"confirm": "yes"})
    assert r.status_code == 409 and "已被拒绝确认" in r.text


def test_the_refusal_form_tells_the_services_own_words_and_keeps_what_was_typed(ctx, pages) -> None:  # type: ignore[no-untyped-def]
    _load(ctx, "long-2020", "340226")
    pages.as_("rev26", "county_reviewer", counties=("340226",))
    before = _entries(ctx)
    r = pages.post("/contracts/long-2020/refuse", {"reason": "  "})  # neither a reason nor the box: both told
    assert r.status_code == 422 and "请填写拒绝确认的理由" in r.text and "请先勾选确认框" in r.text
    typed = "理" * 1001
    r = pages.post("/contracts/long-2020/refuse", {"reason": typed, "confirm": "yes"})
    assert r.status_code == 422 and "理由最多 1000 个字" in r.text and typed in r.text
    r = pages.post("/contracts/long-2020/refuse", {"reason": typed})
    assert r.status_code == 422 and "理由最多 1000 个字" in r.text and "请先勾选确认框" in r.text and typed in r.text
    with ctx.db.read() as session:
        assert contract_store.status_of(session, "long-2020") == "pending"
    assert _entries(ctx) == before


def _entries(ctx) -> int:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return len(session.scalars(select(AuditEntry.idx)).all())
def test_a_city_reviewer_reads_but_each_county_answers_through_its_own(ctx, pages) -> None:  # type: ignore[no-untyped-def]
    text = DEMO.replace('id = "demo-2020"', 'id = "two-2020"').replace('"340223"', '"340251", "340252"')
    contract, problems = check_contract_text(text.encode("utf-8"))
    assert contract is not None, problems
    with ctx.db.begin() as session:
        contract_store.add_contract(session, contract, actor="system", role="admin", clock=ctx.clock)

    pages.as_("city", "county_reviewer", counties=())
    shown = pages.get("/contracts/two-2020").text
    assert 'id="answer-note"' in shown and "不限县（区）" in shown and 'action="/contracts/two-2020/accept"' not in shown
    assert 'id="contract-unreviewed"' in shown and "尚无限于本县（区）的县级复核员" in shown
    r = pages.post("/contracts/two-2020/accept", {"confirm": "yes"})
    assert r.status_code == 403 and "不限县（区）" in r.text

    pages.as_("both", "county_reviewer", counties=("340251", "340252"))
    shown = pages.get("/contracts/two-2020").text
    assert 'id="accept-counties"' in shown and "至少两名县级复核员" in shown
    assert 'id="contract-unreviewed"' not in shown
    r = pages.post("/contracts/two-2020/accept", {"confirm": "yes", "counties_shown": "1"})
    assert r.status_code == 422 and "请至少选择一个县（区）" in r.text
    r = pages.post("/contracts/two-2020/accept", {"confirm": "yes", "counties_shown": "1",
                                                   "county_codes": ["340251", "340252"]})
    assert r.status_code == 409 and "至少两名县级复核员" in r.text
    r = pages.post("/contracts/two-2020/accept", {"confirm": "yes", "counties_shown": "1", "county_codes": "340251"})
    assert r.status_code == 303, r.text
    with ctx.db.read() as session:
        assert contract_store.status_of(session, "two-2020") == "pending"
    shown = pages.get("/contracts/two-2020").text
    assert 'action="/contracts/two-2020/accept"' in shown  # the other county is theirs too, but not alone
    assert "至少两名县级复核员" in shown


def test_the_contracts_hash_wraps_on_a_reviewers_phone(ctx, pages) -> None:  # type: ignore[no-untyped-def]
    """Its 64 digits were one unbroken line (td.mono never wraps): at 390 px the page was 602 px wide and the
    labels beside it were squeezed to a character a line (合/同/编/号)."""
    contract = _load(ctx, "hash-2020", "340224")
    pages.as_("rev24", "county_reviewer", counties=("340224",))
    shown = pages.get("/contracts/hash-2020").text
    cell = shown.split('id="content-hash"')[0].rsplit("<td", 1)[1]
    assert 'class="mono hash"' in cell and contract.content_hash in shown
