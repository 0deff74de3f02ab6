"""The payment pages: batches through every step, the bank file and return, the payee form, the fund, roles and
counties. Cases reach ready_to_pay through the real services up to their determination, then the lifecycle
actions of the village review and the notice (factories.ready_case: those stages have page tests of their own)."""

from __future__ import annotations

import csv
import io
import re

from factories import COUNTY, ready_case
from pagekit import card_count, status_of
from sqlalchemy import update

from verifier.store.tables import Check

BIG = 200_000_000  # 2,000,000.00 yuan of medical costs: the relief reaches its cap of 100,000.00
ACCOUNT = "6222020200112233445"  # a payee's account (each household has its own: payments/one_account.py)


def _batch_url(r) -> str:  # type: ignore[no-untyped-def]
    assert r.status_code == 303, r.text
    m = re.fullmatch(r"(/payments/pb_\w+)\?done=batch", r.headers["location"])
    assert m, r.headers["location"]
    return m.group(1)


def _return_file(lines: list[tuple[str, str, str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["参考号", "状态", "银行流水号", "原因"])
    writer.writerows(lines)
    return out.getvalue().encode("utf-8")


def test_the_whole_payment_path_through_the_pages(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    a = ready_case(ctx, medical=BIG, head_name="甲户主")
    b = ready_case(ctx, medical=BIG, head_name="乙户主")
    c = ready_case(ctx, head_name="丙户主")
    with ctx.db.begin() as session:  # a check that recorded no payee: the batch leaves the case out
        session.execute(update(Check).where(Check.case_id == c).values(payee_name=None, payee_bank=None,
                                                                         payee_account_enc=None))

    # Claims staff (who also hold the finance role in this small office) prepare the batch.
    pages.as_("claims1", "insurer_claims", "finance")
    home = pages.get("/").text
    assert card_count(home, "待支付") == 3 and 'href="/payments"' in home
    listing = pages.get("/payments").text
    assert "生成支付批次" in listing and "demo-2020" in listing
    url = _batch_url(pages.post("/payments", {"county_code": COUNTY, "contract_id": "demo-2020"}))
    text = pages.get(url + "?done=batch").text
    assert "支付批次已生成" in text and "待审批" in text and "200,000.00" in text
    assert "甲户主" in text and "乙户主" in text
    assert ACCOUNT not in text and "***************3445" in text  # accounts masked
    skipped = text.split('id="skipped"')[1]
    assert c in skipped and "入户核查未记录收款账户" in skipped
    assert "需要（金额达到 200,000.00 元）" in text
    # the preparer sees no approve button, and why
    assert f'action="{url}/approve"' not in text and "四眼原则" in text and "您是本批次的制单人" in text
    for body in ({"confirm": "yes"}, {}):  # told who may not approve, with or without the box
        r = pages.post(url + "/approve", body)
        assert r.status_code == 403 and "制单人不能审批" in r.text
    assert card_count(pages.get("/").text, "待审批批次") == 0  # not theirs to approve
    assert status_of(ctx, a) == "in_batch" and status_of(ctx, c) == "ready_to_pay"

    # Another finance officer approves; the release waits for the county's sign-off.
    pages.as_("fin2", "finance")
    assert card_count(pages.get("/").text, "待审批批次") == 1
    assert url.split("/")[-1] in pages.get("/payments?todo=approve").text
    text = pages.get(url).text
    assert f'action="{url}/approve"' in text
    r = pages.post(url + "/approve", {"confirm": "yes"})
    assert r.status_code == 303 and r.headers["location"] == url + "?done=batch_approved"
    text = pages.get(url + "?done=batch_approved").text
    assert "批次已审批" in text and f'action="{url}/release"' not in text
    assert "须经县级审核人员签批后方可发放" in text
    r = pages.post(url + "/release", {"confirm": "yes"})
    assert r.status_code == 409 and "须经县级审核人员签批后方可发放" in r.text
    assert pages.get(url + "/bank-file").status_code == 409  # not released yet

    # The county reviewer signs off.
    pages.as_("rev1", "county_reviewer")
    assert card_count(pages.get("/").text, "待县级签批批次") == 1
    text = pages.get(url).text
    assert f'action="{url}/signoff"' in text and f'action="{url}/release"' not in text
    assert pages.post(url + "/signoff", {"confirm": "yes"}).status_code == 303
    assert "县级已签批" in pages.get(url).text

    # Finance releases, downloads the bank file and imports the bank's return.
    pages.as_("fin2", "finance")
    r = pages.post(url + "/release", {"confirm": "yes"})
    assert r.status_code == 303
    text = pages.get(r.headers["location"]).text
    assert "批次已发放" in text and "下载银行文件（CSV）" in text
    # Who released the batch does not import its return: no form, and why; the other finance officer of this small
    # office (claims1, who prepared it) imports it.
    assert f'action="{url}/bank-return"' not in text and "银行回单须由另一名财务人员导入" in text
    assert card_count(pages.get("/").text, "待导入银行回单") == 0  # not theirs to import
    steps = text.split("办理步骤")[1].split("可办理的操作")[0]
    assert steps.count("fin2") == 2 and "rev1" in steps  # who approved, signed off and released
    bank = pages.get(url + "/bank-file?format=csv")
    assert bank.status_code == 200 and bank.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(bank.content.decode("utf-8"))))
    assert rows[0] == ["reference", "account_name", "account_number", "bank", "amount", "memo"]
    refs = {row[1]: row[0] for row in rows[1:]}
    assert set(refs) == {"甲户主", "乙户主"} and all(row[4] == "100000.00" for row in rows[1:])
    assert all(len(row[2]) == 19 and row[2].isdigit() for row in rows[1:]) and rows[1][2] != rows[2][2]  # in full
    xlsx = pages.get(url + "/bank-file?format=xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"

    mine = _return_file([(refs["甲户主"], "成功", "B001", ""), (refs["乙户主"], "失败", "B002", "账户已销户")])
    r = pages.post(url + "/bank-return", files={"file": ("mine.csv", mine, "text/csv")})
    assert r.status_code == 403 and "本批次由您发放，银行回单须由另一名财务人员导入" in r.text
    assert status_of(ctx, a) == "in_batch"  # nothing was applied
    pages.as_("claims1", "insurer_claims", "finance")
    assert f'action="{url}/bank-return"' in pages.get(url).text
    assert card_count(pages.get("/").text, "待导入银行回单") == 1
    bad = _return_file([(refs["甲户主"], "成功", "B001", ""), ("P000000NOPE000001", "成功", "B002", ""),
                        (refs["甲户主"], "失败", "B003", "账户冻结")])
    r = pages.post(url + "/bank-return", files={"file": ("bad.csv", bad, "text/csv")})
    assert r.status_code == 422 and "回单有误，未导入任何数据" in r.text
    table = r.text.split('id="bad-lines"')[1].split("</table>")[0]
    assert re.findall(r'<td class="num">(\d+)</td>', table) == ["3", "4"]  # every bad line, by its line number
    assert "不是本批次的明细" in table and "与第 2 行重复" in table
    r = pages.post(url + "/bank-return", files={"file": ("worse.csv", b"reference,status\nx,ok\n", "text/csv")})
    assert r.status_code == 422 and "缺少列 银行流水号、原因" in r.text  # the columns as the Chinese header names them
    # the bank file itself picked instead of the bank's return: told so, not the columns it lacks
    r = pages.post(url + "/bank-return", files={"file": ("bank.csv", bank.content, "text/csv")})
    assert r.status_code == 422 and "这是发放时生成、交给银行的银行文件，不是银行返回的回单" in r.text
    assert "无法识别的列" not in r.text and "缺少列" not in r.text
    assert status_of(ctx, a) == "in_batch"  # nothing was applied
    good = _return_file([(refs["甲户主"], "成功", "B001", ""), (refs["乙户主"], "失败", "B002", "账户已销户")])
    r = pages.post(url + "/bank-return", files={"file": ("return.csv", good, "text/csv")})
    assert r.status_code == 303 and r.headers["location"] == url + "?done=return"
    text = pages.get(url + "?done=return").text
    assert "银行回单已导入" in text and "已对账" in text and "账户已销户" in text and "return.csv" in text
    assert f'href="/cases/{b}/payee"' in text  # the way to correct the failed payee
    assert status_of(ctx, a) == "paid" and status_of(ctx, b) == "payment_failed"
    r = pages.post(url + "/bank-return", files={"file": ("again.csv", good, "text/csv")})
    assert r.status_code == 303 and "done=return_repeated" in r.headers["location"]

    fund = pages.get("/fund").text
    assert "100,000.00" in fund and "15,000.00" in fund and "4,385,000.00" in fund  # paid, fee, balance
    assert "批次审批占用" in fund and "银行确认支付" in fund and "服务费" in fund
    # a batch's movements are found by its number (typed in small letters too) and by kind, in numbered pages
    code = re.search(r"支付批次 (P\w+)", pages.get(url).text).group(1)  # type: ignore[union-attr]
    found = pages.get("/fund", params={"contract_id": "demo-2020", "q": code[-8:].lower()}).text
    table = found.split('id="moves-search"')[1].split("</form>")[1]
    assert code in table and "批次审批占用" in table and "合同预算拨入" not in table and "共 " in table
    paid = pages.get("/fund", params={"contract_id": "demo-2020", "kind": "pay"}).text.split('id="moves-search"')[1]
    assert "银行确认支付" in paid and "批次审批占用" not in paid.split("</form>")[1]
    none = pages.get("/fund", params={"contract_id": "demo-2020", "q": "P000000"}).text
    assert "没有符合条件的资金变动（批次号含“P000000”）" in none and 'href="/fund?contract_id=demo-2020">显示全部' in none

    # The supervisor asks for a new payee of the failed case, and for the missing one; a second person approves.
    pages.as_("sup1", "insurer_supervisor")
    assert card_count(pages.get("/").text, "支付失败待更正") == 1
    assert f'href="/cases/{b}/payee"' in pages.get("/payments").text
    assert f'href="/cases/{b}/payee"' in pages.get(f"/cases/{b}").text  # the case page offers the request
    form = pages.get(f"/cases/{b}/payee").text
    assert "申请变更收款人" in form and "账户已销户" in form and ACCOUNT not in form
    r = pages.post(f"/cases/{b}/payee", {"account_name": "乙户主", "bank": "农业银行", "account_number": "12"})
    assert r.status_code == 422 and "应为 8 至 30 位数字" in r.text and 'value="农业银行"' in r.text
    r = pages.post(f"/cases/{b}/payee", {"account_name": "=HYPERLINK(\"http://x\")", "bank": "农业银行",
                                         "account_number": "6228 4800 1234 5678 901"})
    assert r.status_code == 422 and "不能以=开头" in r.text
    r = pages.post(f"/cases/{b}/payee", {"account_name": "乙户主", "bank": "农业银行",
                                         "account_number": "6228 4800 1234 5678 901"})
    assert r.status_code == 303 and r.headers["location"] == f"/cases/{b}/payee?done=payee_requested"
    text = pages.get(r.headers["location"]).text
    assert "变更申请已提交" in text and "待审批" in text and 'id="payee"' not in text  # one pending at a time
    assert status_of(ctx, b) == "payment_failed"  # nothing changes before the approval
    failed = pages.get("/payments").text.split('id="failed"')[1]  # the list no longer offers a second request
    assert f'href="/cases/{b}/payee"' not in failed and "变更已申请，待审批" in failed
    assert 'href="/payee-changes?q=' in failed  # linked to the change, for whoever may decide it
    pages.as_("claims-reads", "insurer_claims")  # claims may not open the changes: the words, no link to a 403
    failed = pages.get("/payments").text.split('id="failed"')[1]
    assert "变更已申请，待审批" in failed and "/payee-changes" not in failed
    pages.login("sup1")
    r = pages.post(f"/cases/{c}/payee", {"account_name": "丙户主", "bank": "农村商业银行",
                                         "account_number": "6210000000000004321"})
    assert r.status_code == 303
    r = pages.get(f"/cases/{a}/payee")  # paid: nothing to change
    assert r.status_code == 409 and "该案件当前为「已支付」" in r.text and f'action="/cases/{a}' not in r.text
    listing = pages.get("/payee-changes").text
    assert "这是您本人提出的申请" in listing and "/approve" not in listing  # not theirs to approve
    pages.as_("fin3", "finance")
    listing = pages.get("/payee-changes").text
    approve_urls = re.findall(r'action="(/payee-changes/pc_\w+/approve)"', listing)
    assert len(approve_urls) == 2 and len(re.findall(r'action="/payee-changes/pc_\w+/reject"', listing)) == 2
    assert "8901" in listing and "6228480012345678901" not in listing
    for approve_url in approve_urls:
        r = pages.post(approve_url, {"confirm": "yes"})
        assert r.status_code == 303 and "done=payee_approved" in r.headers["location"]
    assert status_of(ctx, b) == "ready_to_pay"

    # The corrected case is re-issued in a new batch, to the new account; the paid one is not paid again.
    pages.as_("claims1", "insurer_claims", "finance")
    second = _batch_url(pages.post("/payments", {"county_code": COUNTY, "contract_id": "demo-2020"}))
    assert second != url
    text = pages.get(second).text
    items = text.split('id="items"')[1].split("</table>")[0]
    assert "乙户主" in items and "丙户主" in items and "甲户主" not in items
    assert "***8901" in items and "***4321" in items and "3445" not in items
    assert "不需要" in text  # below the sign-off threshold
    r = pages.post(second + "/cancel", {"confirm": "yes"})
    assert r.status_code == 303 and "批次已撤销" in pages.get(r.headers["location"]).text
    assert status_of(ctx, b) == "ready_to_pay"


def test_creating_a_batch_with_nothing_to_pay_says_why(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    pages.as_("claims1", "insurer_claims")
    assert "目前没有待支付的案件" in pages.get("/payments").text
    r = pages.post("/payments", {"county_code": COUNTY})
    assert r.status_code == 422 and "示范县（340223）没有待支付的案件" in r.text and "县（区）340223" not in r.text
    r = pages.post("/payments", {"county_code": "12"})
    assert r.status_code == 422 and "县（区）代码为 6 位数字" in r.text


def test_roles_and_counties(pages, ctx, clock, other_county) -> None:  # type: ignore[no-untyped-def]
    ours = ready_case(ctx, head_name="本县户")
    clock.advance(days=1)  # the factories' officers of both counties share a vehicle name: not on the same day
    theirs = ready_case(ctx, county=other_county, head_name="外县户")
    pages.as_("claims-all", "insurer_claims", counties=())
    url = _batch_url(pages.post("/payments", {"county_code": other_county}))
    assert "外县户" in pages.get(url).text

    pages.as_("claims1", "insurer_claims")
    assert pages.get(url).status_code == 404
    assert url.split("/")[-1] not in pages.get("/payments").text
    assert pages.post(url + "/cancel", {"confirm": "yes"}).status_code == 404
    assert pages.post("/payments", {"county_code": other_county}).status_code == 404
    for path in (url + "/bank-file", "/cases/" + ours + "/payee"):
        assert pages.get(path).status_code == 403, path
    assert pages.post(url + "/approve", {"confirm": "yes"}).status_code == 403

    pages.as_("sup1", "insurer_supervisor")
    assert pages.get(f"/cases/{theirs}/payee").status_code == 404
    assert pages.get(f"/cases/{ours}/payee").status_code == 200
    assert pages.post(url + "/approve", {"confirm": "yes"}).status_code == 403

    pages.as_("fin1", "finance")
    assert pages.get("/fund?contract_id=other-2020").status_code == 404
    assert "demo-2020" in pages.get("/fund").text and "other-2020" not in pages.get("/fund").text

    pages.as_("clerk1", "town_clerk")
    for path in ("/payments", "/fund", f"/cases/{ours}/payee", url):
        r = pages.get(path)
        assert r.status_code == 403 and "无权访问" in r.text, path
    nav = pages.get("/").text.split("<main")[0]
    assert "支付批次" not in nav and "抽样复核" not in nav

    pages.as_("aud1", "auditor", counties=())
    text = pages.get(url).text
    assert "外县户" in text and "您目前没有可办理的操作" in text
    assert pages.post(url + "/cancel", {"confirm": "yes"}).status_code == 403
