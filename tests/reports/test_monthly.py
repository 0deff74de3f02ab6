"""The monthly report counts the month's events in the county, and the spreadsheet carries the same figures."""

from __future__ import annotations

import io
from decimal import Decimal
from urllib.parse import quote

import openpyxl
from factories import make_case


def test_monthly_report_counts_the_months_work(client, users, ctx) -> None:  # type: ignore[no-untyped-def]
    # The fixed clock stands on 2020-06-01: checks and determinations happen that day.
    a = make_case(ctx, medical=4_200_000)  # eligible, 21,900.00
    b = make_case(ctx, medical=2_500_000)  # eligible: excess 20,000 → 10,000×0.5 + 10,000×0.6 = 11,000.00
    make_case(ctx, wages=9_000_000, stable_income=True)  # ineligible
    make_case(ctx, stage="received")
    users.add("rev", "county_reviewer", counties=("340223",))
    r = client.get("/api/reports/monthly", params={"county_code": "340223", "month": "2020-06"},
                   headers=users.headers("rev"))
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["checks"]["completed"] == 3
    assert report["checks"]["person_visits"] == 6
    assert report["determinations"]["eligible"] == 2
    assert report["determinations"]["ineligible"] == 1
    assert report["determinations"]["relief_determined"] == "32900.00"
    assert report["cases_by_status"] == {"received": 1, "determined": 2, "ineligible": 1}
    assert a != b
    # Referrals were dated three days before: in May, not June.
    assert report["referrals"]["records"] == 0
    may = client.get("/api/reports/monthly", params={"county_code": "340223", "month": "2020-05"},
                     headers=users.headers("rev")).json()
    assert may["referrals"]["records"] == 4 and may["referrals"]["by_channel"] == {"application": 4}

    x = client.get("/api/reports/monthly", params={"county_code": "340223", "month": "2020-06", "format": "xlsx"},
                   headers=users.headers("rev"))
    assert x.status_code == 200
    assert x.headers["content-disposition"].endswith("filename*=UTF-8''" + quote("月报-示范县-2020-06.xlsx"))
    wb = openpyxl.load_workbook(io.BytesIO(x.content))
    summary = {row[0]: row[1] for row in wb["概要"].iter_rows(min_row=3, values_only=True)}
    assert summary["完成入户核查（次）"] == 3
    assert Decimal(str(summary["认定救助金额（元）"])) == Decimal("32900.00")


def test_reports_are_scoped_and_checked(client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("rev-other", "county_reviewer", counties=("340224",))
    h = users.headers("rev-other")
    assert client.get("/api/reports/monthly", params={"county_code": "340223", "month": "2020-06"},
                      headers=h).status_code == 404
    r = client.get("/api/reports/monthly", params={"county_code": "340224", "month": "2020-13"}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "month"
    users.add("officer-r", "field_officer")
    assert client.get("/api/reports/monthly", params={"county_code": "340223", "month": "2020-06"},
                      headers=users.headers("officer-r")).status_code == 403
