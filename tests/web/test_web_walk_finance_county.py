"""What the walk through the finance officers', the county reviewer's and the auditor's pages changed: the audit list
names a payment batch and a notice (linked) as it names a case, and is searched by what the pages show (a case
number, a batch code); a sampling round that could never be frozen is refused when it is started, in Chinese naming
the county by its name."""

from __future__ import annotations

import re

from factories import COUNTY, ready_case
from test_web_notice_posting import _notice
from test_web_payments import _batch_url

from verifier.cases.numbers import numbers_of


def test_the_audit_list_names_batches_and_notices_and_finds_them_by_what_pages_show(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = ready_case(ctx, head_name="甲户主")
    with ctx.db.read() as session:
        number = numbers_of(session, [case_id])[case_id]
    pages.as_("claims-walk", "insurer_claims")
    url = _batch_url(pages.post("/payments", {"county_code": COUNTY, "contract_id": "demo-2020"}))
    batch_id = url.split("/")[-1]
    code = re.search(r"支付批次 <span class=\"mono\">(P\w+)</span>|<h1>支付批次 (P\w+)|(P\d{6}\w{7,})",
                     pages.get(url).text)
    code = next(g for g in code.groups() if g)

    pages.as_("auditor-walk", "auditor")
    html = pages.get("/audit", params={"q": batch_id}).text
    assert f'<a href="/payments/{batch_id}">支付批次 {code}</a>' in html, html[html.find("entry-list"):][:1500]
    # found by the batch's code and by the case's number, as the pages show them (not only by the stored id)
    for typed in (code, code.lower(), number):
        rows = pages.get("/audit", params={"q": typed}).text.split('id="entry-list"')
        assert len(rows) == 2, typed
    assert f'href="/cases/{case_id}"' in pages.get("/audit", params={"q": number}).text
    assert batch_id in pages.get("/audit", params={"q": code}).text
    assert "没有符合条件的记录" in pages.get("/audit", params={"q": "340223-2099-999999"}).text



def test_the_audit_list_names_a_notice_by_its_village_and_day(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    notice_id = _notice(ctx)
    pages.as_("auditor-notice", "auditor")
    html = pages.get("/audit", params={"q": notice_id}).text
    day = ctx.clock.today().isoformat()
    assert f'<a href="/notices/{notice_id}">城关镇东村 {day} 公示</a><br><span class="mono small">{notice_id}</span>' \
        in html, html[html.find("entry-list"):][:1500]


def test_a_round_over_sampled_checks_is_refused_when_started(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    # (a round over checks another round sampled: the rule's own Chinese, test_sampling_commit_reveal)
    pages.as_("reviewer-walk", "county_reviewer")
    r = pages.post("/sampling", {"county_code": COUNTY, "kind": "attribute", "checked_from": "2020-01-01",
                                 "checked_to": "2020-01-02"})
    assert r.status_code == 422 and "没有完成入户核查的案件" in r.text
    # the county by its name, as the form's own choice shows it (not the bare code)
    assert f"2020-01-01 至 2020-01-02 期间，示范县（{COUNTY}）没有完成入户核查的案件" in r.text, \
        re.findall(r"[^<>]*没有完成入户核查[^<>]*", r.text)
