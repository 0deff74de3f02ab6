"""From a bureau's referral file to a confirmed determination, over HTTP, with the relief worked out by hand."""

from __future__ import annotations

import csv
import io
from datetime import date

from verifier.audit.verify import verify_log
from verifier.audit.checkpoints import known_keys
from verifier.domain.idnumber import make_id_number
from verifier.store.tables import Check

HEAD = make_id_number("340223", date(1968, 3, 9), 11)
SPOUSE = make_id_number("340223", date(1970, 8, 21), 22)
CHILD = make_id_number("340223", date(2005, 1, 2), 33)
OTHER = make_id_number("340223", date(1955, 5, 5), 44)
THIRD = make_id_number("340223", date(1960, 12, 12), 55)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def referral_csv() -> bytes:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["身份证号", "姓名", "乡镇", "村", "户类型", "原因", "金额", "日期", "家庭人口", "联系电话", "备注"])
    w.writerow([HEAD, "张三", "城关镇", "东村", "非高标准脱贫户", "因病", "42000.00", "2020-05-29", "3", "13800138000", ""])
    w.writerow([OTHER, "李四", "城关镇", "西村", "非贫低收入户", "因病", "65000.00", "2020-05-29", "2", "", ""])
    w.writerow([THIRD, "王五", "城关镇", "东村", "非贫低收入户", "因灾", "30000", "2020-05-30", "4", "", "房屋受损"])
    return out.getvalue().encode("utf-8-sig")


def test_referral_file_to_confirmed_determination(client, users, ctx, clock) -> None:
    users.add("super", "insurer_supervisor", counties=("340223",))
    users.add("clerk", "town_clerk", counties=("340223",))
    o1 = users.add("o1", "field_officer", counties=("340223",))
    o2 = users.add("o2", "field_officer", counties=("340223",))

    # The household applies itself first (bottom-up) ...
    r = client.post("/api/referrals", headers=users.headers("clerk"), json={
        "county_code": "340223", "id_number": HEAD, "name": "张三", "town": "城关镇", "village": "东村",
        "household_group": "exited_low_standard", "cause": "illness", "amount": "30000.00", "referred_on": "2020-05-28"})
    assert r.status_code == 201, r.text
    case_id = r.json()["case_id"]
    assert r.json()["merged"] is False

    # ... then the civil-affairs bureau's monthly file (large medical costs and disaster losses) names it again:
    # one case, not two.
    files = {"file": ("2020-05.csv", referral_csv(), "text/csv")}
    form = {"channel": "civil_affairs", "county_code": "340223"}
    r = client.post("/api/referrals/imports", headers=users.headers("super"), files=files, data=form)
    assert r.status_code == 201, r.text
    batch = r.json()
    assert (batch["rows"], batch["new_cases"], batch["merged"]) == (3, 2, 1)

    # The same file again changes nothing.
    r = client.post("/api/referrals/imports", headers=users.headers("super"), files=files, data=form)
    assert r.status_code == 201 and r.json()["batch_id"] == batch["batch_id"] and r.json()["new_cases"] == 0
    cases = client.get("/api/cases", headers=users.headers("super")).json()["items"]
    assert len(cases) == 3

    r = client.post(f"/api/cases/{case_id}/screening", headers=users.headers("clerk"),
                    json={"decision": "pass", "reason": "因病支出较大"})
    assert r.status_code == 200, r.text
    r = client.post(f"/api/cases/{case_id}/schedule", headers=users.headers("super"),
                    json={"officers": ["o1", "o2"], "visit_on": "2020-06-02", "vehicle": "车01"})
    assert r.status_code == 200, r.text
    assert r.json()["due_on"] == "2020-06-07"  # referred 2020-05-28, checked within 10 days

    # At the door, two days later: evidence first, then the check.
    clock.advance(days=2)
    r = client.post(f"/api/cases/{case_id}/evidence", headers=users.headers("o1"),
                    files={"file": ("signed-form.png", PNG, "image/png")})
    assert r.status_code == 201, r.text
    sha = r.json()["sha256"]
    # On a weak signal the phone sends again with the same key: the first answer, nothing stored twice; the same
    # key with another file is refused. An officer not assigned to the case may not add to it (403: they can read it).
    keyed = {**users.headers("o1"), "Idempotency-Key": "photo-1"}
    first = client.post(f"/api/cases/{case_id}/evidence", headers=keyed, files={"file": ("a.png", PNG, "image/png")})
    again = client.post(f"/api/cases/{case_id}/evidence", headers=keyed, files={"file": ("a.png", PNG, "image/png")})
    assert (first.status_code, again.status_code) == (201, 201) and first.content == again.content
    assert again.headers.get("Idempotent-Replayed") == "true"
    other = client.post(f"/api/cases/{case_id}/evidence", headers=keyed,
                        files={"file": ("b.png", PNG + b"\0", "image/png")})
    assert other.status_code == 422 and "Idempotency-Key" in other.text
    users.add("o3", "field_officer", counties=("340223",))
    assert client.get(f"/api/cases/{case_id}", headers=users.headers("o3")).status_code == 200
    r = client.post(f"/api/cases/{case_id}/evidence", headers=users.headers("o3"),
                    files={"file": ("c.png", PNG, "image/png")})
    assert r.status_code == 403 and "未分配给您" in r.json()["detail"]
    check = {
        "visited_on": "2020-06-03", "officers": [o1, "o2"],  # by id or by username, as the schedule takes them
        "members": [
            {"name": "张三", "id_number": HEAD, "relation": "head", "labour": "partial"},
            {"name": "刘梅", "id_number": SPOUSE, "relation": "spouse", "labour": "full"},
            {"name": "张小明", "id_number": CHILD, "relation": "child", "labour": "none"},
        ],
        "income": {"wages": "8000.00", "business_net": "0.00", "property_net": "0.00", "transfer_net": "1200.00",
                   "productive_costs": "0.00"},
        "rigid_expenditure": {"medical_self_paid": "42000.00", "schooling": "0.00", "disaster_loss": "0.00"},
        "stable_income": False,
        "payee": {"account_name": "张三", "bank": "农村商业银行", "account_number": "6222020200112233445"},
        "cross_checks": [{"source": "medical_insurance", "finding": "consistent", "note": ""}],
        "evidence": [sha], "note": "",
        "bills": [{"kind": "medical", "issuer": "县人民医院", "number": "ZY2020-0601", "amount": "42000.00"}],
    }
    r = client.post(f"/api/cases/{case_id}/check", headers=users.headers("o1"), json=check)
    assert r.status_code == 201, r.text
    with ctx.db.read() as session:
        assert session.get(Check, r.json()["id"]).officer_ids == [o1, o2]  # stored by id

    r = client.post(f"/api/cases/{case_id}/determination", headers=users.headers("super"), json={"confirm": True})
    assert r.status_code == 200, r.text
    d = r.json()
    # Net income 8,000 + 1,200 = 9,200 for 3 people: 3,066.67 a head, under the 5,200 line.
    assert (d["eligible"], d["rule"], d["per_capita_income"]) == (True, "income_line", "3066.67")
    # 42,000 self-paid, 5,000 deductible: excess 37,000 = 10,000 at 50% + 20,000 at 60% + 7,000 at 70%
    #   = 5,000 + 12,000 + 4,900 = 21,900.
    assert d["relief"]["amount"] == "21900.00"
    assert d["relief"]["capped"] is False
    assert [(b["from"], b["to"], b["rate"], b["base"], b["amount"]) for b in d["relief"]["breakdown"]] == [
        ("0.00", "10000.00", "0.50", "10000.00", "5000.00"),
        ("10000.00", "30000.00", "0.60", "20000.00", "12000.00"),
        ("30000.00", None, "0.70", "7000.00", "4900.00"),
    ]

    detail = client.get(f"/api/cases/{case_id}", headers=users.headers("super")).json()
    assert detail["status"] == "determined"
    assert detail["determination"]["relief"]["amount"] == "21900.00"
    assert len(detail["referrals"]) == 2
    assert all("*" in m["id_number"] for m in detail["checks"][0]["members"])  # the supervisor sees 6+4
    assert detail["checks"][0]["payee"]["account_number"].endswith("3445")
    assert "6222020200112233445" not in r.text + str(detail)
    assert [h["action"] for h in detail["history"]] == [
        "referrals.application", "referrals.import", "case.screen_pass", "case.schedule", "evidence.upload", "case.record_check",
        "case.determine_eligible"]

    with ctx.db.read() as session:
        keys = known_keys(session)
    assert verify_log(ctx.db, keys).ok
