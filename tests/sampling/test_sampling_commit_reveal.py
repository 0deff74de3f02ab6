"""Nobody can choose the sample: the grinding attack refused, commitments fixed before the freeze, reveals checked,
a party passed over only after its deadline (and recorded), the public value, and the replay catching tampering."""

from __future__ import annotations

import hashlib
import itertools
from datetime import timedelta

from click.testing import CliRunner
from sampling_helpers import INSURER_SECRET, RANDOMNESS, commitment, loose_rounds, make_population
from kept_rows import kept
from sqlalchemy import select, update

from verifier.audit.canonical import decode_entry
from verifier.audit.models import AuditEntry
from verifier.domain import sampling
from verifier.sampling import replay as replays
from verifier.sampling import service
from verifier.sampling.cli import replay as replay_command
from verifier.sampling.models import SamplingParty, SamplingRound

TOWNS = {"城关镇": 12, "河口镇": 8}
LATER = {"城关镇": 2, "河口镇": 1}  # a later period's checks: a round of their own, whatever their number
# The checked cases of TOWNS, built once and copied for each test that starts from them.
twenty_checked = kept("twenty_checked", lambda ctx: make_population(ctx, TOWNS))


def _cli_env(ctx) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"VERIFIER_HOME": str(ctx.settings.home), "VERIFIER_DATABASE_URL": ctx.settings.database_url}


def _actions(ctx, round_id: str) -> list[tuple[str, dict]]:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.subject == round_id).order_by(AuditEntry.idx))
        return [(e.action, e.payload) for e in (decode_entry(bytes(r.entry)) for r in rows)]


def _sampler(ctx, round_id: str):  # type: ignore[no-untyped-def]
    """The round's draw as a function of the seed, as anyone holding the published population can compute it."""
    with ctx.db.read() as session:
        members = service._members(session, round_id)
        plans = [service._plan_of(s) for s in service._stages(session, round_id)]
    return lambda seed: [p.case_id for p in service.compute_selection("attribute", True, seed, members, plans)]


def test_a_reviewer_grinding_secrets_cannot_steer_the_draw(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    loose = {"confidence": "0.80", "tolerable_rate": "0.20", "min_rate": "0.10"}  # a sample of about a third
    rounds = loose_rounds(ctx, client, users, **loose)  # as its contract says: no round may be looser
    ids = make_population(ctx, TOWNS, county=rounds.county)
    victims = set(sorted(ids)[:3])  # the households the reviewer wants left out
    opened = rounds.open(**loose)
    round_id = opened["id"]
    assert opened["status"] == "open"

    # Nothing can be frozen (nor revealed) before both parties have committed.
    rounds.freeze(round_id, status=409)
    rounds.commit(round_id, "county", RANDOMNESS)
    r = client.post(f"/api/sampling-rounds/{round_id}/freeze", headers=rounds.headers)
    assert r.status_code == 409 and "尚缺：保险公司" in r.json()["detail"]
    rounds.reveal(round_id, "county", RANDOMNESS, status=409)  # not frozen yet
    # Each party by its own role, once: the reviewer cannot commit for the insurer, nor commit twice.
    rounds.commit(round_id, "insurer", INSURER_SECRET, headers=rounds.headers, status=403)
    rounds.commit(round_id, "county", "ab" * 16, status=409)
    # One person holding both roles may not commit for both parties.
    users.add("both", "county_reviewer", "insurer_supervisor", counties=(rounds.county,))
    rounds.open(**loose, status=409)  # one open round per county, kind and period
    other = rounds.open(**loose, checked_from="2020-05-02")["id"]
    rounds.commit(other, "county", RANDOMNESS, headers=users.headers("both"))
    r = client.post(f"/api/sampling-rounds/{other}/commitments",
                    json={"party": "insurer", "commitment": commitment(INSURER_SECRET)}, headers=users.headers("both"))
    assert r.status_code == 403 and "同一人不能代表双方" in r.json()["detail"]

    rounds.commit(round_id, "insurer", INSURER_SECRET)
    frozen = rounds.freeze(round_id)
    digest, root = bytes.fromhex(frozen["population_digest"]), bytes.fromhex(rounds.get(round_id)["checkpoint"]["root"])

    # The attack: with the population and the root on screen, the reviewer tries secrets offline until the sample
    # leaves out the victims (guessing the insurer withholds, the only input it does not know).
    sample = _sampler(ctx, round_id)
    assert frozen["sample_size"] < len(ids)
    ground = None
    for i in itertools.count():
        candidate = hashlib.sha256(f"try {i}".encode()).digest()
        if not victims & set(sample(sampling.round_seed(digest, root, candidate, None, None))):
            ground = candidate
            break
        assert i < 2_000
    # After the freeze the commitment cannot be changed to the ground secret, and revealing it is refused.
    rounds.commit(round_id, "county", ground.hex(), status=409)
    r = client.post(f"/api/sampling-rounds/{round_id}/reveals", json={"party": "county", "secret": ground.hex()},
                    headers=rounds.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "secret"
    with ctx.db.read() as session:
        assert service.parties(session, round_id)["county"].secret is None  # nothing half-written

    # Only the committed secret is accepted, and the sample depends on the insurer's secret committed before.
    rounds.reveal(round_id, "county", RANDOMNESS)
    drawn = rounds.reveal(round_id, "insurer", INSURER_SECRET)
    seed = sampling.round_seed(digest, root, bytes.fromhex(RANDOMNESS), bytes.fromhex(INSURER_SECRET), None)
    assert drawn["seed"] == seed.hex() and drawn["case_ids"] == sample(seed)
    without_insurer = sampling.round_seed(digest, root, bytes.fromhex(RANDOMNESS), None, None)
    assert without_insurer != seed
    # The same inputs give the same sample, whoever recomputes it.
    assert _sampler(ctx, round_id)(seed) == drawn["case_ids"] == rounds.get(round_id)["case_ids"]

    # Every step is in the log, in order; a reveal's entry holds no secret, the draw's holds both.
    actions = _actions(ctx, round_id)
    assert [a for a, _ in actions] == ["sampling.round_opened", "sampling.committed", "sampling.committed",
                                       "sampling.round_frozen", "sampling.round_committed", "sampling.revealed",
                                       "sampling.revealed", "sampling.drawn"]
    assert actions[3][1]["commitments"] == {"county": commitment(RANDOMNESS), "insurer": commitment(INSURER_SECRET)}
    assert all("secret" not in payload for a, payload in actions if a == "sampling.revealed")
    assert actions[-1][1]["secrets"] == {"county": RANDOMNESS, "insurer": INSURER_SECRET}
    assert actions[-1][1]["withheld"] == []


def test_a_party_is_passed_over_only_after_its_deadline_and_it_is_recorded(ctx, twenty_checked, client, clock, rounds) -> None:  # type: ignore[no-untyped-def]
    assert len(twenty_checked) == sum(TOWNS.values())
    created = rounds.create()
    round_id = created["id"]
    detail = rounds.get(round_id)
    assert detail["reveal_within_days"] == 7
    reveal_by = detail["reveal_by"]
    assert reveal_by == (clock.today() + timedelta(days=7)).isoformat()

    rounds.pass_over(round_id, "insurer", status=409)  # the county has not revealed its own secret yet
    rounds.reveal(round_id, "county", RANDOMNESS)
    rounds.pass_over(round_id, "insurer", status=409)  # before the deadline
    clock.advance(days=7)
    r = client.post(f"/api/sampling-rounds/{round_id}/pass-over", json={"party": "insurer"}, headers=rounds.headers)
    assert r.status_code == 409 and reveal_by in r.json()["detail"]  # the last day is still the insurer's
    clock.advance(days=1)
    rounds.pass_over(round_id, "insurer", headers=rounds.insurer, status=403)  # not by the party itself
    rounds.pass_over(round_id, "county", headers=rounds.headers, status=403)  # the county cannot pass itself over
    rounds.pass_over(round_id, "county", status=409)  # the insurer cannot pass over a county that revealed
    drawn = rounds.pass_over(round_id, "insurer")
    assert drawn["status"] == "drawn" and drawn["withheld"] == ["insurer"] and drawn["case_ids"]
    rounds.reveal(round_id, "insurer", INSURER_SECRET, status=409)  # too late: passed over

    detail = rounds.get(round_id)
    insurer = next(p for p in detail["parties"] if p["party"] == "insurer")
    assert detail["withheld"] == ["insurer"] and insurer["passed_over_at"] and insurer["secret"] is None
    seed = sampling.round_seed(bytes.fromhex(created["population_digest"]), bytes.fromhex(detail["checkpoint"]["root"]),
                               bytes.fromhex(RANDOMNESS), None, None)
    assert drawn["seed"] == detail["seed"] == seed.hex()
    actions = _actions(ctx, round_id)
    passed = [p for a, p in actions if a == "sampling.passed_over"]
    assert passed == [{"party": "insurer", "commitment": commitment(INSURER_SECRET), "reveal_by": reveal_by}]
    assert actions[-1][0] == "sampling.drawn" and actions[-1][1]["withheld"] == ["insurer"]
    with ctx.db.read() as session:
        report = replays.replay(session, round_id)
    assert report.ok, report.differences
    assert "保险公司逾期未揭示，已越过（有日志）" in report.confirmed


def test_a_public_value_is_entered_after_the_freeze_and_before_the_reveals(ctx, twenty_checked, clock, rounds) -> None:  # type: ignore[no-untyped-def]
    assert len(twenty_checked) == sum(TOWNS.values())
    today = clock.today()
    rounds.open(public_value={"description": "福彩 3D", "available_on": today.isoformat()}, status=422)
    rounds.open(public_value={"description": " ", "available_on": "2020-06-05"}, status=422)
    opened = rounds.open(public_value={"description": "福利彩票 3D 2020-06-05 开奖号码", "available_on": "2020-06-05"})
    round_id = opened["id"]
    assert opened["public_value"]["available_on"] == "2020-06-05"
    rounds.public_value(round_id, "1 2 3", status=409)  # not frozen
    rounds.commit(round_id, "county", RANDOMNESS)
    rounds.commit(round_id, "insurer", INSURER_SECRET)
    frozen = rounds.freeze(round_id)
    assert rounds.get(round_id)["reveal_by"] is None  # reveals open with the public value
    rounds.reveal(round_id, "county", RANDOMNESS, status=409)  # the public value comes first
    rounds.public_value(round_id, "1 2 3", status=409)  # not published yet
    clock.advance(days=4)
    step = rounds.public_value(round_id, "  5   8 1 ", headers=rounds.insurer)
    assert step["waiting_for"] == ["reveal:county", "reveal:insurer"] and step["reveal_by"] == "2020-06-12"
    rounds.public_value(round_id, "9 9 9", status=409)  # once
    rounds.reveal(round_id, "insurer", INSURER_SECRET)
    drawn = rounds.reveal(round_id, "county", RANDOMNESS)
    root = bytes.fromhex(rounds.get(round_id)["checkpoint"]["root"])
    seed = sampling.round_seed(bytes.fromhex(frozen["population_digest"]), root, bytes.fromhex(RANDOMNESS),
                               bytes.fromhex(INSURER_SECRET), "5 8 1")
    assert drawn["seed"] == seed.hex()
    assert sampling.round_seed(bytes.fromhex(frozen["population_digest"]), root, bytes.fromhex(RANDOMNESS),
                               bytes.fromhex(INSURER_SECRET), None) != seed
    with ctx.db.read() as session:
        assert replays.replay(session, round_id).ok


def test_replay_catches_a_tampered_secret_commitment_or_seed(ctx, twenty_checked, rounds) -> None:  # type: ignore[no-untyped-def]
    assert len(twenty_checked) == sum(TOWNS.values())
    round_id = rounds.create()["id"]
    drawn = rounds.draw(round_id)
    env = _cli_env(ctx)
    ok = CliRunner().invoke(replay_command, [round_id], env=env)
    assert ok.exit_code == 0 and "一致：县级复核方秘密值的哈希与承诺值相符" in ok.output

    # A secret rewritten in the database: it no longer hashes to its commitment.
    other = hashlib.sha256(b"a secret chosen afterwards").hexdigest()
    with ctx.db.begin() as session:
        session.execute(update(SamplingParty).where(SamplingParty.round_id == round_id,
                                                    SamplingParty.party == "county").values(secret=other))
    result = CliRunner().invoke(replay_command, [round_id], env=env)
    assert result.exit_code == 1
    assert "县级复核方秘密值：其 SHA-256" in result.output and f"与承诺值 {commitment(RANDOMNESS)} 不符" in result.output
    assert "种子：重新计算为" in result.output

    # The secret and its commitment rewritten together: the log still holds the original commitment and secret.
    with ctx.db.begin() as session:
        session.execute(update(SamplingParty).where(SamplingParty.round_id == round_id, SamplingParty.party == "county")
                        .values(commitment=commitment(other)))
    result = CliRunner().invoke(replay_command, [round_id], env=env)
    assert result.exit_code == 1
    assert "县级复核方承诺值：保存的是" in result.output and "提交时日志记录为" in result.output
    assert "县级复核方秘密值：保存的是" in result.output and "抽取时日志记录为" in result.output

    # Put back: agreed again. A rewritten seed is named.
    with ctx.db.begin() as session:
        session.execute(update(SamplingParty).where(SamplingParty.round_id == round_id, SamplingParty.party == "county")
                        .values(commitment=commitment(RANDOMNESS), secret=RANDOMNESS))
    assert CliRunner().invoke(replay_command, [round_id], env=env).exit_code == 0
    with ctx.db.begin() as session:
        session.execute(update(SamplingRound).where(SamplingRound.id == round_id).values(seed="00" * 32))
    result = CliRunner().invoke(replay_command, [round_id], env=env)
    assert result.exit_code == 1 and f"种子：重新计算为 {drawn['seed']}，保存的是 {'00' * 32}" in result.output

    # A party recorded as passed over though the log says it revealed.
    with ctx.db.begin() as session:
        session.execute(update(SamplingRound).where(SamplingRound.id == round_id).values(seed=drawn["seed"]))
        session.execute(update(SamplingParty).where(SamplingParty.round_id == round_id,
                                                    SamplingParty.party == "insurer").values(secret=None))
    result = CliRunner().invoke(replay_command, [round_id], env=env)
    assert result.exit_code == 1 and "保险公司秘密值：日志中既没有揭示也没有越过" in result.output

    # Rewritten into a round of the old single-party flow (randomness chosen afterwards, its seed and sample stored):
    # the commitments in the log give it away.
    with ctx.db.begin() as session:
        session.execute(update(SamplingParty).where(SamplingParty.round_id == round_id,
                                                    SamplingParty.party == "insurer").values(secret=RANDOMNESS))
        session.execute(update(SamplingRound).where(SamplingRound.id == round_id).values(randomness="00" * 16))
    result = CliRunner().invoke(replay_command, [round_id], env=env)
    assert result.exit_code == 1
    assert "本轮冻结时已有承诺值，却带有单方随机数" in result.output


def test_the_single_party_draw_is_withdrawn(ctx, client, rounds) -> None:  # type: ignore[no-untyped-def]
    make_population(ctx, {"城关镇": 3})
    round_id = rounds.create()["id"]
    r = client.post(f"/api/sampling-rounds/{round_id}/draw", json={"randomness": RANDOMNESS}, headers=rounds.headers)
    assert r.status_code == 410
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "commit" in r.json()["detail"] and "reveal" in r.json()["detail"]
    assert rounds.get(round_id)["status"] == "frozen" and rounds.get(round_id)["seed"] is None


def _database_text(ctx) -> str:  # type: ignore[no-untyped-def]
    """Every value of every table as one text, as a reader of the database (or of a dump) sees it: hex of bytes."""
    from verifier.store.base import Base

    parts = []
    with ctx.db.read() as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)):
                for value in row:
                    parts.append(bytes(value).hex() if isinstance(value, (bytes, memoryview)) else repr(value))
    return "\n".join(parts).lower()


def test_attack_the_insurer_reads_the_countys_revealed_secret_from_the_database_before_revealing(
        ctx, twenty_checked, client, rounds) -> None:  # type: ignore[no-untyped-def]
    """The county reveals first; the insurer's side, reading the database, would know the seed before choosing to
    reveal or withhold: the secret is sealed until the draw and nothing in the database holds it."""
    assert len(twenty_checked) == sum(TOWNS.values())
    round_id = rounds.create()["id"]
    rounds.reveal(round_id, "county", RANDOMNESS)
    dump = _database_text(ctx)
    assert RANDOMNESS not in dump and RANDOMNESS.encode().hex() not in dump
    with ctx.db.read() as session:
        county = service.parties(session, round_id)["county"]
        assert county.secret is None and county.sealed_secret is not None and county.revealed_at is not None
    # The round knows the county revealed (and says so), and waits for the insurer only.
    detail = rounds.get(round_id)
    assert [p["revealed"] for p in detail["parties"]] == [True, False] and detail["waiting_for"] == ["reveal:insurer"]
    assert all(p["secret"] is None for p in detail["parties"])
    rounds.reveal(round_id, "county", RANDOMNESS, status=409)  # once

    # The draw opens it: stored and logged in the clear from then on (the sample is public), no sealed copy kept.
    drawn = rounds.reveal(round_id, "insurer", INSURER_SECRET)
    assert drawn["status"] == "drawn"
    with ctx.db.read() as session:
        by_party = service.parties(session, round_id)
        assert {p: (r.secret, r.sealed_secret) for p, r in by_party.items()} == {
            "county": (RANDOMNESS, None), "insurer": (INSURER_SECRET, None)}
    assert CliRunner().invoke(replay_command, [round_id], env=_cli_env(ctx)).exit_code == 0


def test_a_sealed_reveal_is_opened_when_the_other_party_is_passed_over(ctx, twenty_checked, clock, rounds) -> None:  # type: ignore[no-untyped-def]
    assert len(twenty_checked) == sum(TOWNS.values())
    round_id = rounds.create()["id"]
    rounds.reveal(round_id, "insurer", INSURER_SECRET)
    clock.advance(days=8)
    drawn = rounds.pass_over(round_id, "county")
    assert drawn["status"] == "drawn" and drawn["withheld"] == ["county"]
    with ctx.db.read() as session:
        insurer = service.parties(session, round_id)["insurer"]
        assert (insurer.secret, insurer.sealed_secret) == (INSURER_SECRET, None)
    assert CliRunner().invoke(replay_command, [round_id], env=_cli_env(ctx)).exit_code == 0


def test_attack_the_reviewer_draws_two_samples_of_the_same_checks_and_keeps_the_one_that_suits(
        ctx, twenty_checked, client, clock, rounds) -> None:  # type: ignore[no-untyped-def]
    """The county reviewer opens two rounds over the same checks (the same period twice is refused while the first
    is open: one a day shorter); the insurer commits to both as routine. With one drawn, freezing the other (for a
    second sample to choose from) is refused, and so is opening a third; a round of another period is not."""
    assert len(twenty_checked) == sum(TOWNS.values())
    first = rounds.open()["id"]
    assert first in rounds.open(status=409)["detail"]
    second = rounds.open(checked_from="2020-05-02")["id"]
    for round_id in (first, second):
        rounds.commit(round_id, "county", RANDOMNESS)
        rounds.commit(round_id, "insurer", INSURER_SECRET)
    rounds.freeze(first)
    r = client.post(f"/api/sampling-rounds/{second}/freeze", headers=rounds.headers)
    # the first round named by its state and period (the second's starts on 05-02), as the pages name it
    assert r.status_code == 409 and "（已冻结总体，待揭示，核查期间 2020-05-01 至 2020-06-30）" in r.json()["detail"]
    assert rounds.get(second)["status"] == "open"
    rounds.draw(first)
    rounds.freeze(second, status=409)  # drawn or not
    # a third round over these checks is refused when opened, before the parties commit to it in vain
    third = rounds.open(checked_from="2020-05-03", status=409)
    assert "（已抽取样本，核查期间 2020-05-01 至 2020-06-30）" in third["detail"]  # the first, drawn
    assert "同一批核查不能抽取两次样本" in third["detail"] and "smp_" not in third["detail"]
    # A later period's checks are sampled on their own (from the day after the drawn round's period).
    clock.advance(days=45)
    make_population(ctx, LATER)
    day = clock.today().isoformat()
    later = rounds.open(checked_from="2020-07-01", checked_to=day)["id"]
    rounds.commit(later, "county", RANDOMNESS)
    rounds.commit(later, "insurer", INSURER_SECRET)
    assert rounds.freeze(later)["population_size"] == sum(LATER.values())
