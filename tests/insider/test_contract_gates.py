"""Under a contract the county has not accepted (pending) or has refused, no sampling round opens and no payment batch
is prepared, approved, signed off or released: each is refused with 409 naming the contract, and nothing is written
(no round, no batch, no fund movement, no audit entry). Once the county accepts, each goes through.

A determination is refused under such a contract (test_contract_acceptance.py), so a batch's cases are determined under
an accepted one; no service puts an accepted contract back to pending. The payment tests set the contract's status
in the database to try each guard of the batch on its own, as if the contract were not (or no longer) accepted."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from factories import make_case
from payments.payment_helpers import add_contract, ready_case
from sqlalchemy import func, select, update

from verifier.audit.models import AuditEntry
from verifier.contract import check_contract_text
from verifier.payments.ledger_models import FundMovement
from verifier.payments.models import PaymentBatch
from verifier.sampling.models import SamplingRound
from verifier.store import contracts as contract_store
from verifier.store.tables import ContractRow

DEMO = (Path(__file__).resolve().parents[2] / "contracts" / "demo-2020.toml").read_text(encoding="utf-8")
PENDING_ZH, REFUSED_ZH = "待县审核确认", "已被县级复核员拒绝确认"


def _load(ctx: Any, contract_id: str, county: str) -> None:
    """The demo's terms for `county` under `contract_id`, loaded as `verifier contracts add` does: pending."""
    text = re.sub(r'(?m)^id = .*$', f'id = "{contract_id}"', DEMO)
    text = re.sub(r'(?m)^county_codes = .*$', f'county_codes = ["{county}"]', text)
    contract, problems = check_contract_text(text.encode("utf-8"))
    assert contract is not None, problems
    with ctx.db.begin() as session:
        assert contract_store.add_contract(session, contract, actor="system", role="admin", clock=ctx.clock)


def _written(ctx: Any) -> tuple[int, ...]:
    """What a refused request must leave as it was: rounds, batches and their statuses, fund movements, the log."""
    with ctx.db.read() as session:
        return (session.scalar(select(func.count()).select_from(SamplingRound)),
                session.scalar(select(func.count()).select_from(PaymentBatch)),
                *sorted(hash(s) for s in session.scalars(select(PaymentBatch.status))),
                session.scalar(select(func.count()).select_from(FundMovement)),
                session.scalar(select(func.count()).select_from(AuditEntry)))


def _refused(ctx: Any, response: Any, contract_id: str, status_zh: str, before: tuple[int, ...]) -> None:
    assert response.status_code == 409, response.text
    detail = response.json()["detail"]
    assert f"服务合同 {contract_id}（" in detail and status_zh in detail, detail
    assert _written(ctx) == before


def _round(client: Any, headers: dict[str, str], county: str, today: Any) -> Any:
    return client.post("/api/sampling-rounds", headers=headers, json={
        "county_code": county, "checked_from": (today - timedelta(days=30)).isoformat(),
        "checked_to": today.isoformat()})


def test_no_sampling_round_opens_under_a_pending_contract_until_the_county_accepts(
        ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    _load(ctx, "gate-2020", "340231")
    make_case(ctx, stage="checked", county="340231")  # checks go on under a pending contract; sampling waits
    users.add("rev", "county_reviewer", counties=("340231",))
    before = _written(ctx)
    _refused(ctx, _round(client, users.headers("rev"), "340231", ctx.clock.today()), "gate-2020", PENDING_ZH, before)

    r = client.post("/api/contracts/gate-2020/accept", headers=users.headers("rev"), json={})
    assert r.status_code == 200 and r.json()["status"] == "accepted", r.text
    r = _round(client, users.headers("rev"), "340231", ctx.clock.today())
    assert r.status_code == 201, r.text


def test_no_sampling_round_opens_under_a_refused_contract(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    _load(ctx, "gate-2020", "340232")
    make_case(ctx, stage="checked", county="340232")
    users.add("rev", "county_reviewer", counties=("340232",))
    r = client.post("/api/contracts/gate-2020/reject", headers=users.headers("rev"), json={"reason": "与纸质合同不符"})
    assert r.status_code == 200 and r.json()["status"] == "refused", r.text
    before = _written(ctx)
    _refused(ctx, _round(client, users.headers("rev"), "340232", ctx.clock.today()), "gate-2020", REFUSED_ZH, before)


def test_no_batch_is_prepared_approved_signed_off_or_released_unless_the_contract_is_accepted(
        ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    contract = add_contract(ctx, county="340233", signoff_at="1.00")  # accepted; every batch needs the sign-off
    ready_case(ctx, county="340233")
    for name, role in (("claims", "insurer_claims"), ("fin1", "finance"), ("fin2", "finance"),
                       ("rev", "county_reviewer")):
        users.add(name, role, counties=("340233",))
    h = {name: users.headers(name) for name in ("claims", "fin1", "fin2", "rev")}

    def status(value: str) -> None:
        with ctx.db.begin() as session:
            session.execute(update(ContractRow).where(ContractRow.id == contract.id).values(status=value))

    def each_refused(call: Any) -> None:
        for value, zh in (("pending", PENDING_ZH), ("refused", REFUSED_ZH)):
            status(value)
            before = _written(ctx)
            _refused(ctx, call(), contract.id, zh, before)
        status("accepted")

    prepare = lambda: client.post("/api/payment-batches", json={"county_code": "340233"}, headers=h["claims"])  # noqa: E731
    each_refused(prepare)
    r = prepare()
    assert r.status_code == 201, r.text
    bid = r.json()["id"]

    approve = lambda: client.post(f"/api/payment-batches/{bid}/approve", headers=h["fin1"])  # noqa: E731
    each_refused(approve)
    assert approve().status_code == 200

    signoff = lambda: client.post(f"/api/payment-batches/{bid}/county-signoff", headers=h["rev"])  # noqa: E731
    each_refused(signoff)
    # Refusing the sign-off stays open whatever the contract: saying no to a payment is always the county's.
    status("pending")
    r = client.post(f"/api/payment-batches/{bid}/county-signoff/refuse", headers=h["rev"],
                    json={"opinion": "合同尚未确认"})
    assert r.status_code == 200 and r.json()["status"] == "prepared", r.text
    status("accepted")
    r = client.post(f"/api/payment-batches/{bid}/approve", headers=h["fin2"])
    assert r.status_code == 200, r.text
    r = signoff()
    assert r.status_code == 200 and r.json()["status"] == "signed_off", r.text

    release = lambda: client.post(f"/api/payment-batches/{bid}/release", headers=h["fin1"])  # noqa: E731
    each_refused(release)
    r = release()
    assert r.status_code == 200 and r.json()["status"] == "released", r.text
