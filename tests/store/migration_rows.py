"""Rows put into a database at an older revision by the migration tests, in the columns every revision since 0001
has (a contract, a household and its case)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

NOW = "2020-06-01 02:00:00"


def insert_case(conn: Any, *, county: str, status: str) -> None:
    """Contract 'c', household 'hh_1' and its case 'case_1' in `county`, the case at `status`."""
    conn.execute(text("INSERT INTO contract (id, content_hash, title, county_codes, period_start, period_end, "
                      "budget, source, loaded_at) VALUES ('c', 'h', 't', :counties, '2020-01-01', "
                      "'2020-12-31', 0, '', :now)"), {"now": NOW, "counties": f'["{county}"]'})
    conn.execute(text("INSERT INTO household (id, county_code, town, village, household_group, head_name, "
                      "created_at) VALUES ('hh_1', :county, 't', 'v', 'low_income', 'h', :now)"),
                 {"now": NOW, "county": county})
    conn.execute(text("INSERT INTO relief_case (id, household_id, county_code, town, village, household_group, "
                      "cause, contract_id, contract_hash, contract_year, status, referred_on, reported_amount, "
                      "created_at, updated_at, version) VALUES ('case_1', 'hh_1', :county, 't', 'v', "
                      "'low_income', 'illness', 'c', 'h', 2020, :status, '2020-05-01', 0, :now, :now, 1)"),
                 {"now": NOW, "county": county, "status": status})
