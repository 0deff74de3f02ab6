"""Sampling rounds over HTTP: frozen and committed before randomness, a reproducible draw, scoping and roles."""

from __future__ import annotations

import base64
import hashlib

from click.testing import CliRunner
from sampling_helpers import INSURER_SECRET, PERIOD, RANDOMNESS, commitment, loose_rounds, make_population
from factories import COUNTY, make_case
from recheck_kit import visit_api
from sqlalchemy import update

from verifier.audit import merkle
from verifier.audit.canonical import decode_entry
from verifier.audit.notes import VerifierKey, open_checkpoint
from verifier.domain import sampling
from verifier.sampling import replay as replays
from verifier.sampling import service
from verifier.sampling.cli import replay as replay_command
from verifier.sampling.models import SamplingItem, SamplingRound
from verifier.store.tables import Case

TOWNS = {"城关镇": 20, "河口镇": 6, "山前乡": 3, "湖东乡": 1}


def _public_key(client) -> VerifierKey:  # type: ignore[no-untyped-def]
    r = client.get("/api/audit/public-key")
    assert r.status_code == 200
    return VerifierKey.parse(r.text.strip())


def _cli_env(ctx) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"VERIFIER_HOME": str(ctx.settings.home), "VERIFIER_DATABASE_URL": ctx.settings.database_url}


def test_round_is_frozen_and_committed_before_any_randomness(ctx, client, clock, rounds) -> None:  # type: ignore[no-untyped-def]
    ids = make_population(ctx, {"城关镇": 5, "河口镇": 3, "山前乡": 1})
    ids.append(make_case(ctx, stage="determined", town="河口镇"))  # a determined case was checked too
    make_case(ctx, stage="scheduled", town="城关镇")  # not checked: outside the population
    clock.advance(days=40)
    make_case(ctx, stage="checked", town="城关镇")  # checked after the period
    clock.advance(days=-40)

    created = rounds.create()
    assert created["population_size"] == len(ids) == 10
    assert created["population_digest"] == sampling.population_digest(ids).hex()
    assert created["stratified"] is True and created["kind"] == "attribute"
    assert {s["town"]: s["population"] for s in created["allocation"]} == {"城关镇": 5, "河口镇": 4, "山前乡": 1}
    assert sum(s["sample"] for s in created["allocation"]) == created["sample_size"]
    assert all(s["sample"] >= 1 for s in created["allocation"])

    # The checkpoint returned is signed, and proves the freezing entry (digest and size) is in the log.
    checkpoint, _ = open_checkpoint(created["checkpoint"], [_public_key(client)])
    index = created["audit_index"]
    assert checkpoint.size == created["checkpoint_size"] > index
    r = client.get(f"/api/audit/entries/{index}", params={"tree_size": checkpoint.size}, headers=rounds.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    entry = base64.b64decode(body["entry"])
    merkle.verify_inclusion(merkle.leaf_hash(entry), index, checkpoint.size,
                            [bytes.fromhex(h) for h in body["inclusion_proof"]], checkpoint.root)
    logged = decode_entry(entry)
    assert (logged.action, logged.subject) == ("sampling.round_frozen", created["id"])
    assert logged.payload["population_digest"] == created["population_digest"]
    assert logged.payload["sample_size"] == created["sample_size"]
    assert logged.payload["confidence"] == "0.95" and logged.payload["min_rate"] == "0.10"  # from the contract

    # Nothing random is known yet; the population is published for anyone to hash.
    detail = rounds.get(created["id"])
    assert detail["status"] == "frozen" and detail["seed"] is None and detail["randomness"] is None
    assert detail["case_ids"] == [] and detail["waiting_for"] == ["reveal:county", "reveal:insurer"]
    assert logged.payload["commitments"] == {p["party"]: p["commitment"] for p in detail["parties"]}
    assert detail["items"] == [] and detail["checkpoint"]["tree_size"] == checkpoint.size
    assert detail["checkpoint"]["root"] == checkpoint.root.hex()
    population = rounds.get(created["id"], "/population")
    assert population["case_ids"] == sorted(ids)
    assert hashlib.sha256("\n".join(population["case_ids"]).encode()).hexdigest() == created["population_digest"]
    assert rounds.report(created["id"])["verdict"] == "pending"


def test_draw_is_reproducible_unpredictable_and_happens_once(ctx, client, rounds) -> None:  # type: ignore[no-untyped-def]
    make_population(ctx, TOWNS)
    created = rounds.create()
    round_id = created["id"]
    assert created["population_size"] == 30
    assert created["method"] == "hypergeometric" and created["sample_size"] == 23  # N = 30, 95 %, 5 %, none expected

    rounds.reveal(round_id, "county", "not hex at all, 0123456789abcdef0123456789abcdef", status=422)
    rounds.reveal(round_id, "county", "0123456789abcdef" * 1, status=422)  # 8 bytes: too short
    rounds.reveal(round_id, "county", "0123456789abcdef0123456789abcdef0", status=422)  # odd count of digits
    first = rounds.reveal(round_id, "county", RANDOMNESS.upper())
    assert first["status"] == "frozen" and first["seed"] is None and first["waiting_for"] == ["reveal:insurer"]
    hidden = rounds.get(round_id)
    assert [p["revealed"] for p in hidden["parties"]] == [True, False]
    assert all(p["secret"] is None for p in hidden["parties"])  # shown only with the draw
    drawn = rounds.reveal(round_id, "insurer", INSURER_SECRET)
    assert drawn["status"] == "drawn" and drawn["withheld"] == []
    assert len(drawn["case_ids"]) == len(set(drawn["case_ids"])) == 23

    # seed = SHA-256 over the digest, the checkpoint root, both secrets and (none here) the public value
    detail = rounds.get(round_id)
    seed = sampling.round_seed(bytes.fromhex(created["population_digest"]), bytes.fromhex(detail["checkpoint"]["root"]),
                               bytes.fromhex(RANDOMNESS), bytes.fromhex(INSURER_SECRET), None)
    assert drawn["seed"] == seed.hex() == detail["seed"] and detail["randomness"] is None
    assert detail["status"] == "drawn" and detail["case_ids"] == drawn["case_ids"]
    assert {p["party"]: p["secret"] for p in detail["parties"]} == {"county": RANDOMNESS, "insurer": INSURER_SECRET}

    # stratification: each town gets its allocation (at least one), the totals add up
    allocation = {s["town"]: s["sample"] for s in detail["allocation"]}
    assert sum(allocation.values()) == 23 and min(allocation.values()) >= 1
    per_town: dict[str, int] = {}
    for item in detail["items"]:
        per_town[item["town"]] = per_town.get(item["town"], 0) + 1
    assert per_town == allocation
    population = rounds.get(round_id, "/population")
    with ctx.db.read() as session:
        towns = dict(session.query(Case.id, Case.town).filter(Case.id.in_(population["case_ids"])).all())
    strata: dict[str, list[str]] = {}
    for case_id in population["case_ids"]:
        strata.setdefault(towns[case_id], []).append(case_id)
    expected = sampling.draw_stratified(seed, strata, allocation)
    assert drawn["case_ids"] == [case_id for town in sorted(expected) for case_id in expected[town]]

    # a second reveal is refused, with the same or another secret; the single-party draw is withdrawn
    rounds.reveal(round_id, "county", RANDOMNESS, status=409)
    rounds.reveal(round_id, "insurer", "ff" * 16, status=409)
    r = client.post(f"/api/sampling-rounds/{round_id}/draw", json={"randomness": RANDOMNESS}, headers=rounds.headers)
    assert r.status_code == 410 and "commit" in r.json()["detail"]

    # replay (service and command line) equals the original draw
    with ctx.db.read() as session:
        report = replays.replay(session, round_id)
    assert report.ok, report.differences
    assert any("包含在签名检查点内" in line for line in report.confirmed)
    result = CliRunner().invoke(replay_command, [round_id], env=_cli_env(ctx))
    assert result.exit_code == 0, result.output
    assert "重新抽取的样本与记录的完全一致" in result.output

    # one bit of either secret changes the sample
    flipped = bytearray(bytes.fromhex(INSURER_SECRET))
    flipped[-1] ^= 1
    other_seed = sampling.round_seed(bytes.fromhex(created["population_digest"]),
                                     bytes.fromhex(detail["checkpoint"]["root"]), bytes.fromhex(RANDOMNESS),
                                     bytes(flipped), None)
    with ctx.db.read() as session:
        members = service._members(session, round_id)
        plans = [service._plan_of(s) for s in service._stages(session, round_id)]
    again = service.compute_selection("attribute", True, seed, members, plans)
    assert [p.case_id for p in again] == drawn["case_ids"]
    other = service.compute_selection("attribute", True, other_seed, members, plans)
    assert [p.case_id for p in other] != drawn["case_ids"]
    assert len(population["case_ids"]) == 30

    # a tampered record is caught: the replay names the difference and exits 1
    with ctx.db.begin() as session:
        session.execute(update(SamplingRound).where(SamplingRound.id == round_id).values(seed=other_seed.hex()))
    result = CliRunner().invoke(replay_command, [round_id], env=_cli_env(ctx))
    assert result.exit_code == 1
    assert "种子：重新计算为" in result.output
    with ctx.db.begin() as session:
        session.execute(update(SamplingRound).where(SamplingRound.id == round_id).values(seed=seed.hex()))
        victim = drawn["case_ids"][0]
        outsider = next(c for c in population["case_ids"] if c not in drawn["case_ids"])
        session.execute(update(SamplingItem).where(SamplingItem.round_id == round_id, SamplingItem.case_id == victim)
                        .values(position=99))
    with ctx.db.read() as session:
        report = replays.replay(session, round_id)
    assert not report.ok and any(victim in line for line in report.differences)
    assert outsider not in " ".join(report.differences)
    assert CliRunner().invoke(replay_command, ["smp_no_such_round"], env=_cli_env(ctx)).exit_code == 1


def test_unstratified_round_uses_draw_sample(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    rounds = loose_rounds(ctx, client, users, confidence="0.90", tolerable_rate="0.10")  # the round's own contract
    ids = make_population(ctx, {"城关镇": 4, "河口镇": 4}, county=rounds.county)
    created = rounds.create(stratify_by_town=False, min_rate="0.50", confidence="0.90", tolerable_rate="0.10")
    assert created["stratified"] is False and created["allocation"] == []
    drawn = rounds.draw(created["id"])
    assert drawn["case_ids"] == sampling.draw_sample(bytes.fromhex(drawn["seed"]), ids, created["sample_size"])
    detail = rounds.get(created["id"])
    assert (detail["confidence"], detail["tolerable_rate"], detail["min_rate"]) == ("0.90", "0.10", "0.50")
    assert {i["town"] for i in detail["items"]} <= {"城关镇", "河口镇"}


def test_bad_requests_roles_and_county_scoping(ctx, client, users, rounds) -> None:  # type: ignore[no-untyped-def]
    rounds.create(status=422)  # no checked case yet: empty population
    make_population(ctx, {"城关镇": 3})
    for body in ({"confidence": "1.5"}, {"confidence": "0.95x"}, {"expected_rate": "0.05"},
                 {"kind": "monetary", "stratify_by_town": True}, {"checked_from": "2020-07-01"}):
        r = client.post("/api/sampling-rounds", json={"county_code": COUNTY, **PERIOD, **body}, headers=rounds.headers)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["errors"], r.text
    r = client.post("/api/sampling-rounds", json={"county_code": COUNTY, **PERIOD, "confidence": 0.95},
                    headers=rounds.headers)
    assert r.status_code == 400  # a float is not a rate
    created = rounds.create()

    users.add("supervisor", "insurer_supervisor", counties=(COUNTY,))
    r = client.post("/api/sampling-rounds", json={"county_code": COUNTY, **PERIOD}, headers=users.headers("supervisor"))
    assert r.status_code == 403
    r = client.post(f"/api/sampling-rounds/{created['id']}/freeze", headers=users.headers("supervisor"))
    assert r.status_code == 403
    r = client.get(f"/api/sampling-rounds/{created['id']}", headers=users.headers("supervisor"))
    assert r.status_code == 200  # the insurer follows the round it commits to

    users.add("auditor", "auditor")
    assert client.get(f"/api/sampling-rounds/{created['id']}/report", headers=users.headers("auditor")).status_code == 200
    r = client.post(f"/api/sampling-rounds/{created['id']}/reveals", json={"party": "county", "secret": RANDOMNESS},
                    headers=users.headers("auditor"))
    assert r.status_code == 403

    users.add("elsewhere", "county_reviewer", counties=("340100",))
    other = users.headers("elsewhere")
    for path in ("", "/report", "/population"):
        assert client.get(f"/api/sampling-rounds/{created['id']}{path}", headers=other).status_code == 404
    r = client.post(f"/api/sampling-rounds/{created['id']}/reveals", json={"party": "county", "secret": RANDOMNESS},
                    headers=other)
    assert r.status_code == 404
    r = client.post("/api/sampling-rounds", json={"county_code": COUNTY, **PERIOD}, headers=other)
    assert r.status_code == 404
    assert client.get("/api/sampling-rounds", headers=other).json()["items"] == []
    listed = client.get("/api/sampling-rounds", params={"county_code": COUNTY}, headers=rounds.headers).json()["items"]
    assert [r["id"] for r in listed] == [created["id"]]

    # results before the draw, and for a case outside the sample
    r = client.post(f"/api/sampling-rounds/{created['id']}/results",
                    json={"case_id": "case_x", "per_capita_income": "1.00", "eligible": True}, headers=rounds.headers)
    assert r.status_code == 409
    rounds.expand(created["id"], status=409)
    rounds.draw(created["id"])
    rounds.result(created["id"], "case_not_drawn", status=422, per_capita_income="1.00", eligible=True)
    rounds.expand(created["id"], status=409)  # verdict pending


def test_monetary_round_always_takes_items_at_or_above_the_interval(ctx, rounds) -> None:  # type: ignore[no-untyped-def]
    # relief grows with the medical cost; one case reaches the 100,000 cap
    medical = [600_000, 900_000, 1_500_000, 2_500_000, 4_200_000, 6_000_000, 900_000, 700_000, 20_000_000, 3_000_000]
    ids = [make_case(ctx, stage="determined", town="城关镇" if i % 2 else "河口镇", medical=m)
           for i, m in enumerate(medical)]
    make_case(ctx, stage="checked")  # no confirmed determination: not in a monetary population
    created = rounds.create(kind="monetary")
    assert created["kind"] == "monetary" and created["stratified"] is False
    assert created["population_size"] == len(ids) and created["method"] == "binomial"
    assert created["sample_size"] == 59  # monetary units at 95 %, 5 %, none expected
    population = rounds.get(created["id"], "/population")
    weights = {case_id: int(amount.replace(".", "")) for case_id, amount in population["weights"].items()}
    assert sum(weights.values()) == int(created["population_total"].replace(".", ""))

    drawn = rounds.draw(created["id"])
    interval = int(drawn["interval"].replace(".", ""))
    assert interval == sum(weights.values()) // 59
    big = {case_id for case_id, w in weights.items() if w >= interval}
    assert big and big <= set(drawn["case_ids"])
    assert drawn["case_ids"] == sampling.mus_select(bytes.fromhex(drawn["seed"]), list(weights.items()), 59)
    with ctx.db.read() as session:
        assert replays.replay(session, created["id"]).ok

    # all re-checked as the insurer found: accepted on the monetary units
    from verifier.store.tables import Determination
    with ctx.db.read() as session:
        found = {d.case_id: d for d in session.query(Determination).filter(Determination.case_id.in_(drawn["case_ids"]))}
    for case_id in drawn["case_ids"]:
        d = found[case_id]
        rounds.result(created["id"], case_id, per_capita_income=_yuan(d.per_capita_income), eligible=True,
                      relief_amount=_yuan(d.relief))
    report = rounds.report(created["id"])
    assert report["units"]["sampled"] in (59, 60) and report["units"]["rechecked"] == report["units"]["sampled"]
    assert report["verdict"] == "accept" and report["deviations"] == 0
    assert report["sampled"] == len(drawn["case_ids"])


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def test_monetary_round_widens_with_the_same_seed(ctx, rounds) -> None:  # type: ignore[no-untyped-def]
    # one case at the 100,000 cap and 30 of 500 yuan: the small ones are chosen by chance, the big one always
    big = make_case(ctx, stage="determined", medical=20_000_000)
    for _ in range(30):
        make_case(ctx, stage="determined", medical=600_000)
    created = rounds.create(kind="monetary")
    drawn = rounds.draw(created["id"])
    assert big in drawn["case_ids"] and len(drawn["case_ids"]) < 31
    from verifier.store.tables import Determination
    with ctx.db.read() as session:
        found = {d.case_id: d for d in session.query(Determination)}
    small = next(c for c in drawn["case_ids"] if c != big)
    for case_id in drawn["case_ids"]:
        d = found[case_id]
        rounds.result(created["id"], case_id, per_capita_income=_yuan(d.per_capita_income), eligible=True,
                      relief_amount=_yuan(d.relief + (1 if case_id == small else 0)))
    report = rounds.report(created["id"])
    assert report["verdict"] == "expand" and report["deviations"] == 1 and report["units"]["deviations"] >= 1
    widened = rounds.expand(created["id"])
    assert widened["stage"] == 2 and widened["sample_size"] == 93 and widened["method"] == "binomial"  # k = 1
    # 22 or so small cases were left out; each now has about a 40 % chance, so some join (all missing: ~1e-5)
    assert widened["case_ids"] and not set(widened["case_ids"]) & set(drawn["case_ids"])
    interval = int(widened["interval"].replace(".", ""))
    population = rounds.get(created["id"], "/population")
    detail = rounds.get(created["id"])
    counted = {i["case_id"] for i in detail["items"] if i["units"] > 0}
    assert counted == set(sampling.mus_select(bytes.fromhex(drawn["seed"]),
                                              [(c, int(w.replace(".", ""))) for c, w in population["weights"].items()],
                                              widened["sample_size"]))
    assert {c for c, w in population["weights"].items() if int(w.replace(".", "")) >= interval} <= counted
    after = rounds.report(created["id"])
    assert after["stages"] == 2 and after["verdict"] == "pending"
    assert after["units"]["sampled"] in (93, 94) and after["sampled"] == len(counted)
    with ctx.db.read() as session:
        replayed = replays.replay(session, created["id"])
    assert replayed.ok, replayed.differences


def test_writes_repeated_with_an_idempotency_key_change_nothing(ctx, client, rounds) -> None:  # type: ignore[no-untyped-def]
    ids = make_population(ctx, {"城关镇": 3})
    body = {"county_code": COUNTY, **PERIOD, "min_rate": "1.00"}
    headers = {**rounds.headers, "Idempotency-Key": "round-1"}
    first = client.post("/api/sampling-rounds", json=body, headers=headers)
    again = client.post("/api/sampling-rounds", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and first.json()["status"] == "open"
    assert len(client.get("/api/sampling-rounds", headers=rounds.headers).json()["items"]) == 1
    round_id = first.json()["id"]
    assert CliRunner().invoke(replay_command, [round_id], env=_cli_env(ctx)).exit_code == 1  # not drawn yet

    for party, secret in (("county", RANDOMNESS), ("insurer", INSURER_SECRET)):
        keyed = {**rounds.headers_of(party), "Idempotency-Key": f"commit-{party}"}
        answers = [client.post(f"/api/sampling-rounds/{round_id}/commitments",
                               json={"party": party, "commitment": commitment(secret)}, headers=keyed)
                   for _ in range(2)]
        assert [r.status_code for r in answers] == [201, 201] and answers[0].json() == answers[1].json()
    keyed = {**rounds.headers, "Idempotency-Key": "freeze-1"}
    frozen = [client.post(f"/api/sampling-rounds/{round_id}/freeze", headers=keyed) for _ in range(2)]
    assert [r.status_code for r in frozen] == [200, 200] and frozen[0].json() == frozen[1].json()
    rounds.reveal(round_id, "county", RANDOMNESS)
    keyed = {**rounds.insurer, "Idempotency-Key": "reveal-1"}
    drawn = [client.post(f"/api/sampling-rounds/{round_id}/reveals", json={"party": "insurer", "secret": INSURER_SECRET},
                         headers=keyed) for _ in range(2)]
    assert [r.status_code for r in drawn] == [200, 200] and drawn[0].json() == drawn[1].json()
    assert sorted(drawn[0].json()["case_ids"]) == sorted(ids)

    headers = {**rounds.headers, "Idempotency-Key": "result-1"}
    body = {"case_id": ids[0], "per_capita_income": "2666.67", "eligible": True,
            **visit_api(None, client, rounds.headers, round_id, ids[0])}
    results = [client.post(f"/api/sampling-rounds/{round_id}/results", json=body, headers=headers) for _ in range(2)]
    assert [r.status_code for r in results] == [201, 201] and results[0].json() == results[1].json()
    assert rounds.report(round_id)["rechecked"] == 1
    assert CliRunner().invoke(replay_command, [round_id], env=_cli_env(ctx)).exit_code == 0


def test_a_round_starts_the_day_after_the_previous_round_of_its_kind(ctx, clock, rounds) -> None:  # type: ignore[no-untyped-def]
    """The next round of the county and kind may not leave days between the periods (their checks would fall into no
    sample); the county's first round of a kind is free."""
    make_population(ctx, {"城关镇": 3})
    rounds.create()  # 2020-05-01..2020-06-30: the first, free
    clock.advance(days=45)
    make_population(ctx, {"城关镇": 3}, stage="determined", medical=20_000_000)
    day = clock.today().isoformat()
    refused = rounds.open(checked_from="2020-07-02", checked_to=day, status=409)["detail"]
    assert "本轮须自 2020-07-01 起" in refused and "（2020-07-01 至 2020-07-01）" in refused
    # The monetary kind has no previous round: its first is free.
    rounds.open(checked_from="2020-07-10", checked_to=day, kind="monetary")
    assert rounds.create(checked_from="2020-07-01", checked_to=day)["population_size"] == 3
