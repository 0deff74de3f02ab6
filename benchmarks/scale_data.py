"""A scratch database of many cases for the scale benchmark (`benchmarks/scale.py`).

`fill` writes `n` cases spread over four counties (12 towns of 15 villages each), six contract years (2020 to
2025, the last one running: "today" is 2025-10-15), the causes and the household groups, each case in a status
drawn from a realistic mix (past years almost all closed, the current year at every stage), with what its status
implies: a household and a referral for each, an active visit when scheduled, a home check from `checked` on, a
confirmed determination from `determined` on, a village review from `reviewed` on, a payment item (in a batch of
its county and month) when in a batch, paid or failed, and a follow-up for most payments settled
more than 25 days ago. On top of the mix, `backlog` cases of county 340223 are
ready to pay under the current contract (the 100,000-item batch). Rows go in with Core executemany in chunks;
sealed ID numbers reuse a few pre-sealed values; no audit entries are written for the generated rows. Each household
has its own payee account (sealed, with its blind index on the check and the payment item), except that one backlog
case in a thousand is paid into the account of another backlog household, an account a county reviewer has cleared
for the two (`account_clearance`): the batch's account re-check finds them and lets them pass.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import insert

COUNTIES = {"340223": 0.35, "340221": 0.25, "340222": 0.25, "340225": 0.15}
MAIN_COUNTY = "340223"
TOWNS = [f"镇{i:02d}" for i in range(12)]
VILLAGES = [f"村{i:02d}" for i in range(15)]
YEARS = {2020: 1.0, 2021: 1.1, 2022: 1.2, 2023: 1.3, 2024: 1.4, 2025: 1.2}
CURRENT_YEAR = 2025
TODAY = date(2025, 10, 15)
CAUSES = {"illness": 0.7, "schooling": 0.18, "disaster": 0.12}
GROUPS = {"low_income": 0.6, "exited_low_standard": 0.4}
PAST = {"paid": 0.48, "ineligible": 0.22, "screened_out": 0.10, "no_relief": 0.08, "withdrawn": 0.07,
        "review_failed": 0.03, "payment_failed": 0.02}
CURRENT = {"received": 0.05, "screened": 0.05, "scheduled": 0.06, "checked": 0.05, "determined": 0.05,
           "reviewed": 0.04, "in_notice": 0.04, "ready_to_pay": 0.04, "in_batch": 0.03, "paid": 0.30,
           "payment_failed": 0.01, "ineligible": 0.13, "no_relief": 0.05, "screened_out": 0.07, "review_failed": 0.01,
           "withdrawn": 0.02}
OPEN = {"received", "screened", "scheduled", "checked", "determined", "reviewed", "in_notice", "ready_to_pay",
        "in_batch"}
CHECKED = {"checked", "determined", "ineligible", "no_relief", "reviewed", "review_failed", "in_notice",
           "ready_to_pay", "in_batch", "paid", "payment_failed"}
DETERMINED = CHECKED - {"checked"}
REVIEWED = {"reviewed", "review_failed", "in_notice", "ready_to_pay", "in_batch", "paid", "payment_failed"}
ITEM_STATUS = {"in_batch": "sent", "paid": "succeeded", "payment_failed": "failed"}
OFFICERS = [f"u_officer{i}" for i in range(40)]
CHUNK = 20_000
UTC = timezone.utc


@dataclass
class Filled:
    cases: int = 0
    rows: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    contracts: dict[int, Any] = field(default_factory=dict)  # year -> Contract
    shared: int = 0  # backlog accounts shared by two households, cleared


def _pick(rng: random.Random, weights: dict[Any, float], k: int) -> list[Any]:
    return rng.choices(list(weights), weights=list(weights.values()), k=k)


def contracts(demo_path: Path) -> dict[int, Any]:
    """One contract a year covering the four counties, with a fund large enough for every case."""
    from verifier.contract import check_contract_text

    source = demo_path.read_text(encoding="utf-8")
    out = {}
    for year in YEARS:
        text = re.sub(r'(?m)^id = .*$', f'id = "scale-{year}"', source)
        text = re.sub(r'(?m)^county_codes = .*$', f"county_codes = {list(COUNTIES)!r}".replace("'", '"'), text)
        text = re.sub(r'(?m)^period = .*$', f"period = {{ start = {year}-01-01, end = {year}-12-31 }}", text)
        text = re.sub(r'(?m)^budget = .*$', 'budget = "100000000000.00"', text)
        text = text.replace("2020年度", f"{year}年度")
        contract, problems = check_contract_text(text.encode("utf-8"))
        assert contract is not None, problems
        out[year] = contract
    return out


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour - 8), UTC)  # 10:00 in Asia/Shanghai


def _spec(rng: random.Random, n: int, backlog: int) -> Iterator[tuple[str, int, str]]:
    """(county, year, status) of every case, in a shuffled order: the mix, then the backlog."""
    counties = _pick(rng, COUNTIES, n - backlog)
    years = _pick(rng, YEARS, n - backlog)
    past, current = _pick(rng, PAST, n), _pick(rng, CURRENT, n)
    for i in range(n - backlog):
        yield counties[i], years[i], current[i] if years[i] == CURRENT_YEAR else past[i]
    for _ in range(backlog):
        yield MAIN_COUNTY, CURRENT_YEAR, "ready_to_pay"


def fill(engine: Any, vault: Any, n: int, backlog: int, demo_contract: Path, *, seed: int = 2025) -> Filled:
    """Write the cases; returns what was written (the contracts must already be stored: `contracts`)."""
    from verifier.followups.models import Followup
    from verifier.notices.models import VillageReview
    from verifier.payments.models import AccountClearance, PaymentBatch, PaymentItem
    from verifier.payments.one_account import account_index
    from verifier.store.tables import Case, CaseNumberCounter, Check, Determination, Household, Referral, Visit

    rng = random.Random(seed)
    filled = Filled(contracts=contracts(demo_contract))
    sealed_ids = [vault.seal(f"34022319{60 + i}0101{i:03d}X", "referral.id_number") for i in range(8)]
    first_backlog = n - backlog
    backlog_households: dict[int, tuple[str, str]] = {}  # backlog case's position -> (household, case)
    clearances: list[dict[str, Any]] = []
    seqs: dict[tuple[str, int], int] = defaultdict(int)
    batches: dict[tuple[str, int, int, str], str] = {}
    batch_rows: dict[str, dict[str, Any]] = {}
    spec = list(_spec(rng, n, backlog))
    for start in range(0, n, CHUNK):
        rows: dict[Any, list[dict[str, Any]]] = defaultdict(list)
        for i in range(start, min(n, start + CHUNK)):
            county, year, status = spec[i]
            contract = filled.contracts[year]
            last = min(TODAY, date(year, 12, 31)) if year == CURRENT_YEAR else date(year, 12, 31)
            if status in OPEN:
                referred = last - timedelta(days=rng.randrange(5, 70))
            else:
                referred = date(year, 1, 1) + timedelta(days=rng.randrange((last - date(year, 1, 1)).days - 60))
            seqs[(county, year)] += 1
            town, village = rng.choice(TOWNS), rng.choice(VILLAGES)
            group, cause = _pick(rng, GROUPS, 1)[0], _pick(rng, CAUSES, 1)[0]
            stamp = int(_at(referred).timestamp() * 1000)
            case_id, hh_id = f"case_{stamp:012x}{i:014x}", f"hh_{stamp:012x}{i:014x}"
            head = f"户主{i}"
            created = _at(referred)
            amount = rng.randrange(100_000, 8_000_000)
            rows[Household].append({"id": hh_id, "county_code": county, "town": town, "village": village,
                                    "household_group": group, "head_name": head, "phone_enc": None,
                                    "created_at": created})
            rows[Case].append({
                "id": case_id, "number": f"{county}-{year:04d}-{seqs[(county, year)]:06d}", "household_id": hh_id,
                "county_code": county, "town": town, "village": village, "household_group": group, "cause": cause,
                "contract_id": contract.id, "contract_hash": contract.content_hash, "contract_year": year,
                "status": status, "referred_on": referred, "reported_amount": amount,
                "screening_reason": "不属于监测对象" if status == "screened_out" else None,
                "closed_reason": "申请人撤回" if status == "withdrawn" else None, "created_at": created,
                "updated_at": created, "version": 1, "merged_into_id": None})
            rows[Referral].append({
                "id": f"ref_{stamp:012x}{i:014x}", "import_id": None, "row_number": None, "case_id": case_id,
                "channel": rng.choice(("civil_affairs", "medical_insurance", "emergency", "education")),
                "name": head, "id_number_enc": sealed_ids[i % 8], "id_number_bidx": f"{i:064x}", "phone_enc": None,
                "town": town, "village": village, "household_group": group, "cause": cause, "amount": amount,
                "referred_on": referred, "household_size": 3, "note": None, "entered_by": "seed",
                "created_at": created})
            officers = rng.sample(OFFICERS, 2)
            if status == "scheduled":
                rows[Visit].append({
                    "id": f"vis_{stamp:012x}{i:014x}", "case_id": case_id,
                    "visit_on": TODAY + timedelta(days=rng.randrange(-3, 10)),
                    "due_on": referred + timedelta(days=10), "officer_ids": officers, "vehicle": None,
                    "active": True, "planned_by": "seed", "created_at": created})
            if i >= first_backlog:
                backlog_households[i] = (hh_id, case_id)
            if status not in CHECKED:
                continue
            owner = i - 500 if i >= first_backlog + 500 and i % 1000 == 7 else i  # a shared account, cleared
            account_no = f"6217{owner:015d}"
            account_ix = account_index(vault, account_no)
            if owner != i:
                households = sorted({backlog_households[owner][0], hh_id})
                clearances.append({
                    "id": f"acl_{i:020x}", "account_index": account_ix, "account_masked": f"****{account_no[-4:]}",
                    "households": households, "case_ids": sorted({backlog_households[owner][1], case_id}),
                    "county_code": county, "note": "监护人代收", "cleared_by": "u_reviewer",
                    "cleared_at": _at(TODAY, 9)})
            visited = min(referred + timedelta(days=rng.randrange(2, 13)), TODAY)
            check_id = f"chk_{stamp:012x}{i:014x}"
            medical = rng.randrange(0, 12_000_000)
            rows[Check].append({
                "id": check_id, "case_id": case_id, "seq": 1, "visited_on": visited,
                "due_on": referred + timedelta(days=10), "days_late": max(0, (visited - referred).days - 10),
                "officer_ids": officers, "members": [], "member_count": 3, "wages": rng.randrange(0, 3_000_000),
                "business_net": 0, "property_net": 0, "transfer_net": 0, "productive_costs": 0,
                "medical_self_paid": medical, "schooling": 0, "disaster_loss": 0, "other_rigid": 0,
                "stable_income": False, "payee_name": head, "payee_bank": "农村商业银行",
                "payee_account_enc": vault.seal(account_no, "check.payee_account"),
                "payee_account_index": account_ix, "cross_checks": [], "evidence": [], "note": None,
                "recorded_by": officers[0], "recorded_at": _at(visited, 16), "sent_back_by": None,
                "sent_back_at": None, "sent_back_reason": None})
            if status not in DETERMINED:
                continue
            decided = min(visited + timedelta(days=rng.randrange(1, 8)), TODAY)
            eligible = status != "ineligible"
            relief = 0 if status in ("ineligible", "no_relief") else rng.randrange(50_000, 5_000_000)
            det_id = f"det_{stamp:012x}{i:014x}"
            rows[Determination].append({
                "id": det_id, "case_id": case_id, "check_id": check_id, "eligible": eligible,
                "rule": "burden" if eligible else "income", "reason": "", "per_capita_income": 300_000,
                "basis": medical, "already_paid": 0, "relief": relief, "breakdown": [], "capped": False,
                "registers_consulted": None, "register_comparisons": None, "contract_hash": contract.content_hash,
                "confirmed_by": "u_supervisor", "confirmed_at": _at(decided, 15)})
            if status not in REVIEWED:
                continue
            held = min(decided + timedelta(days=rng.randrange(2, 10)), TODAY)
            rows[VillageReview].append({
                "id": f"vr_{stamp:012x}{i:014x}", "case_id": case_id, "held_on": held,
                "result": "fail" if status == "review_failed" else "pass", "note": None, "recorded_by": "u_clerk",
                "recorded_at": _at(held, 17)})
            if status not in ITEM_STATUS:
                continue
            settled = min(held + timedelta(days=rng.randrange(15, 40)), TODAY)
            key = (county, year, settled.month if status != "in_batch" else 0, status == "in_batch" and "live" or "")
            batch_id = batches.get(key)
            if batch_id is None:
                batch_id = batches[key] = f"pb_{county}{year}{key[2]:02d}{key[3]}"
                batch_rows[batch_id] = {
                    "id": batch_id, "code": f"S{county[-3:]}{year % 100:02d}{key[2]:02d}{'L' if key[3] else 'R'}",
                    "county_code": county, "contract_id": contract.id, "contract_hash": contract.content_hash,
                    "status": "released" if key[3] else "reconciled", "item_count": 0, "total": 0,
                    "items_sha256": "", "signoff_required": False, "prepared_by": "u_claims",
                    "prepared_at": _at(held, 11), "approved_by": "u_fin1", "approved_at": _at(held, 12),
                    "released_by": "u_fin2", "released_at": _at(held, 13), "updated_at": _at(held, 13)}
            batch = batch_rows[batch_id]
            batch["item_count"] += 1
            batch["total"] += relief
            done = status != "in_batch"
            rows[PaymentItem].append({
                "id": f"pi_{stamp:012x}{i:014x}", "batch_id": batch_id, "seq": batch["item_count"],
                "reference": f"{batch['code']}{batch['item_count']:07d}", "case_id": case_id,
                "determination_id": det_id, "amount": relief, "payee_name": head, "payee_bank": "农村商业银行",
                "payee_check_id": check_id, "payee_correction_id": None, "status": ITEM_STATUS[status],
                "payee_account_index": account_ix,
                "bank_reference": f"B{i}" if status == "paid" else None,
                "failure_reason": "账户已冻结" if status == "payment_failed" else None, "return_id": None,
                "settled_at": _at(settled, 18) if done else None, "settled_on": settled if done else None,
                "created_at": _at(held, 11), "removed_by": None, "removed_at": None, "removed_reason": None,
                "supplement_id": None})
            if status == "paid" and (TODAY - settled).days > 25 and rng.random() < 0.97:
                done_on = settled + timedelta(days=rng.randrange(5, 25))
                rows[Followup].append({
                    "id": f"fu_{stamp:012x}{i:014x}", "case_id": case_id, "payment_item_id": f"pi_{stamp:012x}{i:014x}",
                    "county_code": county, "due_on": settled + timedelta(days=30), "done_on": done_on,
                    "method": "phone", "income_change": "same", "risk_remains": False, "satisfaction": "satisfied",
                    "new_needs": [], "note": None, "recorded_by": officers[0], "recorded_at": _at(done_on, 15)})
        with engine.begin() as conn:
            pending = [b for b in batch_rows.values() if not b.get("_stored")]
            if pending:
                conn.execute(insert(PaymentBatch.__table__), [{k: v for k, v in b.items() if k != "_stored"}
                                                              for b in pending])
                for b in pending:
                    b["_stored"] = True
            for table in (Household, Case, Referral, Visit, Check, Determination, VillageReview, PaymentItem,
                          Followup):
                if rows[table]:
                    conn.execute(insert(table.__table__), rows[table])
                    filled.rows[table.__tablename__] += len(rows[table])
        filled.cases += len(rows[Case])
    with engine.begin() as conn:
        batch_t = PaymentBatch.__table__
        for b in batch_rows.values():
            conn.execute(batch_t.update().where(batch_t.c.id == b["id"]).values(item_count=b["item_count"],
                                                                                  total=b["total"]))
        if clearances:
            conn.execute(insert(AccountClearance.__table__), clearances)
        conn.execute(insert(CaseNumberCounter.__table__),
                     [{"county_code": c, "year": y, "last_seq": s} for (c, y), s in seqs.items()])
    filled.rows["payment_batch"] = len(batch_rows)
    filled.rows["account_clearance"] = filled.shared = len(clearances)
    return filled
