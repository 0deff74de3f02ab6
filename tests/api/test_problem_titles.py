"""Every problem the API answers has a Chinese title, the one `labels.ERROR_TITLES` gives its status, and a detail
in Chinese, whatever raised it: a rule (404, 409, 410, 413, 422, 429), the schema (400), the login and role guard
(401, 403), Litestar's routing (404, 405), the database (503) or a fault in the code (500). The shapes stay: status,
title, detail, and `errors` for bad fields."""

from __future__ import annotations

import re
from dataclasses import replace

from factories import make_case
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from sqlalchemy.exc import OperationalError

from verifier.app import _http_to_problem
from verifier.domain.errors import FieldError, ValidationFailed
from verifier.settings import ImportLimits
from verifier.web import stagelabels
from verifier.web.labels import ERROR_TITLES

HAN = re.compile(r"[\u4e00-\u9fff]")
# Two English words in a row ("Not Found", "log in first"): a detail says nothing in English but codes and paths.
ENGLISH = re.compile(r"\b[A-Za-z]{2,}\b[ ,;:]+\b[A-Za-z]{2,}\b")


def _said(r, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert r.status_code == status, (status, r.text)
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body = r.json()
    assert body["status"] == status and body["title"] == ERROR_TITLES[status], body
    assert HAN.search(body["detail"]) and not ENGLISH.search(body["detail"]), body
    return body


def test_every_status_answers_with_a_chinese_title_and_detail(client, users, ctx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    users.add("clerk", "town_clerk")
    users.add("rev", "county_reviewer")
    users.add("sup", "insurer_supervisor")
    clerk, rev, sup = users.headers("clerk"), users.headers("rev"), users.headers("sup")

    body = _said(client.post("/api/auth/login", json={"username": 5}), 400)  # the schema's refusal
    assert body["errors"] and set(body["errors"][0]) >= {"field", "message"}
    _said(client.get("/api/cases"), 401)  # no login
    assert "登录" in _said(client.get("/api/cases", headers={"Authorization": "Bearer x.y.z"}), 401)["detail"]
    body = _said(client.post("/api/referrals/imports", headers=clerk), 403)  # the role guard
    assert "县级复核员、保险公司主管" in body["detail"], body  # names the roles the route takes, as the pages do
    _said(client.get("/api/no-such-thing", headers=clerk), 404)  # no route
    _said(client.get("/api/cases/case_" + "0" * 26, headers=clerk), 404)  # a rule's NotFound
    body = _said(client.delete("/api/health"), 405)
    assert "DELETE" in body["detail"] and "GET" in client.delete("/api/health").headers["allow"]
    case_id = make_case(ctx, stage="checked")
    _said(client.post(f"/api/cases/{case_id}/screening", headers=clerk, json={"decision": "pass", "reason": ""}), 409)
    _said(client.post("/api/sampling-rounds/r1/draw", headers=rev), 410)
    received = make_case(ctx, stage="received")
    body = _said(client.post(f"/api/cases/{received}/screening", headers=clerk,
                             json={"decision": "reject", "reason": " "}), 422)
    assert body["errors"][0]["field"] == "reason" and body["detail"].startswith("原因："), body  # the field's label
    ctx.settings = replace(ctx.settings, imports=ImportLimits(max_bytes=1024))
    body = _said(client.post("/api/referrals/imports", headers=sup, files={"file": ("a.csv", b"x" * 4096, "text/csv")},
                             data={"channel": "civil_affairs", "county_code": "340223"}), 413)
    assert "errors" in body
    for _ in range(5):
        client.post("/api/auth/login", json={"username": "clerk", "password": "wrong password!"})
    r = client.post("/api/auth/login", json={"username": "clerk", "password": "wrong password!"})
    assert int(_said(r, 429) and r.headers["retry-after"]) > 0

    from verifier.places import service as places

    def broken(*args: object) -> None:
        raise RuntimeError("a fault in the code")

    monkeypatch.setattr(places, "place_list", broken)
    assert "RuntimeError" not in _said(client.get("/api/places/?county=340223", headers=rev), 500)["detail"]

    def lost(*args: object) -> None:
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(places, "place_list", lost)
    r = client.get("/api/places/?county=340223", headers=rev)
    assert _said(r, 503) and r.headers["retry-after"]


def test_litestars_own_refusals_are_titled_by_status() -> None:
    """A body over the application's limit (256 MiB: too large to send in a test) is refused by Litestar itself."""
    said = _http_to_problem(RequestEntityTooLarge())
    assert (said.status_code, said.title) == (413, ERROR_TITLES[413]) and HAN.search(said.detail)


def test_a_list_of_bad_fields_is_said_in_chinese() -> None:
    """`ValidationFailed`'s detail (the command line's and the API's): 第 N 行 and the field, every problem up to 20,
    then how many more; the API names each field by its label and says its message in Chinese."""
    one = FieldError("amount", "必填", row=3)
    assert str(one) == "第 3 行，amount：必填" and str(FieldError("file", "空文件")) == "file：空文件"
    many = ValidationFailed([FieldError("amount", "必填", row=n) for n in range(2, 27)])
    assert many.detail.startswith("第 2 行，amount：必填；第 3 行") and many.detail.endswith("；另有 5 处问题")
    assert many.listing and ValidationFailed([]).detail == "提交的内容有误"
    assert not ValidationFailed([one], detail="另说").listing
    said = many.listed(stagelabels.field_problem)
    assert said.startswith("第 2 行，金额：必填；") and said.endswith("另有 5 处问题")
    assert stagelabels.field_problem(FieldError("reason", "必填")) == "原因：必填"
    assert stagelabels.field_problem(FieldError("file", "必填", row=4)) == "第 4 行：必填"


def test_a_refusal_no_table_says_is_answered_by_its_status_not_in_english(caplog) -> None:  # type: ignore[no-untyped-def]
    from verifier.web.labels import ERROR_UNSAID

    assert stagelabels.detail_zh("money must be a string of yuan", 422) == "请填写金额（元），如 1200.50"
    assert stagelabels.detail_zh("a sentence no table knows", 409) == ERROR_UNSAID[409]
    assert "a sentence no table knows" in caplog.text  # logged, so the table gets its line


# The rules that say their refusals in Chinese where they raise them, not through the pages' tables of messages: the
# API's `errors[].message` (programs, and the pages that show them) is the rule's own Chinese.
SAID_AT_THE_RAISE = ("checks/service.py", "checks/attempts.py", "cases/service.py", "notices/service.py",
                     "notices/objections.py", "domain/idnumber.py", "payments/service.py",
                     "payments/recoveries.py", "payments/bank.py",
                     "payments/bankfiles.py", "payments/ledger.py", "payments/batch_read.py",
                     "payments/one_account.py", "payments/fund.py", "sampling/flow.py", "sampling/visits.py",
                     "sampling/service.py", "sampling/consequences.py", "sampling/independence.py",
                     "sampling/plans.py", "cases/holds.py", "accounts/service.py", "accounts/grants.py", "accounts/login.py",
                     "referrals/edit.py", "documents/letter.py", "documents/notice.py",
                     "referrals/service.py", "referrals/parsing/application.py",  # (files.py names “CSV UTF-8”)
                     "referrals/settlements.py", "recusal/removal.py", "recusal/service.py", "registers/parsing.py",
                     "audit/service.py", "uploads.py", "sheets.py", "roster/parsing.py", "roster/service.py",
                     "roster/routes.py", "checks/bills.py", "checks/late_bills.py", "checks/review.py",
                     "checks/recording.py", "checks/evidence_files.py", "checks/routes.py",
                     "domain/lifecycle.py", "domain/masking.py", "domain/income.py", "domain/eligibility.py",
                     "domain/cell_values.py", "domain/planning/by_hand.py",
                     "domain/planning/planner.py", "web/clerk.py", "web/cases.py",
                     "web/attempts.py", "web/officer.py", "web/audit.py", "web/exports/audit.py",
                     "notices/meetings.py", "notices/posting.py", "notices/reading.py", "notices/routes.py",
                     "idempotency.py", "reports/links.py", "reports/routes.py", "reports/queries.py",
                     "cases/route_sheet.py", "cases/workflow.py", "cases/present.py", "cases/id_search.py",
                     "needs/service.py", "conflicts/service.py", "web/followups.py", "web/deviations.py",
                     "payments/recovery_reading.py", "payments/routes.py", "sampling/assessment.py",
                     "sampling/routes.py", "accounts/auth.py", "accounts/limits.py", "referrals/routes.py",
                     "contract_review/service.py", "domain/sample_draw.py", "domain/sample_sizes.py",
                     "domain/sample_stats.py", "cases/listing.py", "web/common.py",
                     "web/sampling.py", "web/payments/choose.py", "web/payments/pages.py", "web/reports.py",
                     "web/payments/fund.py", "web/supervisor.py")
_RAISES = {"BadCell": 0, "FieldError": 1, "one": 1, "InvalidState": 0, "NotFound": 0, "Forbidden": 0, "DomainError": 0}


def english_refusals(source: str) -> list[str]:
    """The messages of a module's refusals (`FieldError`, `ValidationFailed.one`, `InvalidState`, `NotFound`,
    `Forbidden`: a string, an f-string, or a constant of the module) that are not Chinese, or that say English words."""
    import ast

    tree = ast.parse(source)
    constants = {t.id: node.value for node in tree.body if isinstance(node, ast.Assign)
                 for t in node.targets if isinstance(t, ast.Name)}
    said = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        at = _RAISES.get(name)
        if at is None or len(node.args) <= at:
            continue
        message = node.args[at]
        if isinstance(message, ast.Name) and message.id in constants:
            message = constants[message.id]
        if isinstance(message, ast.Constant) and isinstance(message.value, str):
            said.append(message.value)
        elif isinstance(message, ast.JoinedStr):
            said.append("".join(v.value if isinstance(v, ast.Constant) else "0" for v in message.values))
    return [m for m in said if not HAN.search(m) or ENGLISH.search(m)]


def test_the_rules_said_at_the_raise_raise_no_english() -> None:
    from pathlib import Path

    import verifier

    root = Path(verifier.__file__).parent
    assert {module: english_refusals((root / module).read_text(encoding="utf-8")) for module in SAID_AT_THE_RAISE} \
        == {module: [] for module in SAID_AT_THE_RAISE}
    # the check can fail: a refusal in English (as these rules said theirs) is caught, a Chinese one is not
    assert english_refusals('raise InvalidState(f"cannot determine a case that is {case.status}")\n'
                            'FieldError("members", "至少填写一名家庭成员")\n'
                            'ValidationFailed.one("file", "the file is empty")\n') == [
        "cannot determine a case that is 0", "the file is empty"]


def _chinese_errors(body: dict) -> dict:
    for error in body["errors"]:
        assert HAN.search(error["message"]) and not ENGLISH.search(error["message"]), body
    return body


def test_the_bad_fields_of_the_rules_said_at_the_raise_are_chinese(  # type: ignore[no-untyped-def]
        client, users, ctx) -> None:
    """`errors[].message` as the rule says it, each field named by its code as before."""
    from datetime import timedelta

    users.add("clerk", "town_clerk")
    users.add("sup", "insurer_supervisor")
    clerk, sup = users.headers("clerk"), users.headers("sup")
    later = (ctx.clock.today() + timedelta(days=3)).isoformat()
    received = make_case(ctx, stage="received")
    body = _chinese_errors(_said(client.post(f"/api/cases/{received}/screening", headers=clerk,
                                             json={"decision": "reject", "reason": " "}), 422))
    assert [e["field"] for e in body["errors"]] == ["reason"] and body["errors"][0]["message"] == "不通过时须填写原因"
    screened = make_case(ctx, stage="screened")
    body = _chinese_errors(_said(client.post(f"/api/cases/{screened}/schedule", headers=sup, json={
        "officers": ["nobody", "nobody2"], "visit_on": later, "vehicle": "皖B"}), 422))
    assert {"officers[0]", "officers[1]"} <= {e["field"] for e in body["errors"]}, body
    determined = make_case(ctx, stage="determined")
    body = _chinese_errors(_said(client.post(f"/api/cases/{determined}/village-review", headers=clerk,
                                             json={"held_on": later, "result": "fail", "note": ""}), 422))
    assert [e["field"] for e in body["errors"]] == ["held_on", "note"], body
    body = _said(client.post(f"/api/cases/{determined}/screening", headers=clerk,
                             json={"decision": "pass", "reason": ""}), 409)
    assert body["detail"].startswith("案件当前状态为「") and body["detail"].endswith("」，不能初步筛选"), body
