"""Re-check results: deviations decided by the system, the verdict, and the widened second stage."""

from __future__ import annotations

from click.testing import CliRunner
from sampling_helpers import make_population
from factories import make_case
from kept_rows import kept

from verifier.sampling import replay as replays
from verifier.sampling import service
from verifier.sampling.cli import replay as replay_command
from verifier.store.tables import Determination

INSURER_PER_CAPITA = "2666.67"  # the factory's 8,000 yuan of wages over 3 members


# A hundred checked cases in three towns (60, 30, 10), for the rounds whose sample size the table and the minimum
# rate decide: built once, copied for each test that asks for them.
hundred_checked = kept("hundred_checked", lambda ctx: make_population(ctx, {"城关镇": 60, "河口镇": 30, "山前乡": 10}))


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def test_the_system_decides_deviations(ctx, rounds) -> None:  # type: ignore[no-untyped-def]
    determined = [make_case(ctx, stage="determined") for _ in range(5)]
    checked = make_case(ctx, stage="checked")
    created = rounds.create(stratify_by_town=False, min_rate="1.00")
    round_id = created["id"]
    assert created["sample_size"] == created["population_size"] == 6  # a census
    assert set(rounds.draw(round_id)["case_ids"]) == {*determined, checked}
    with ctx.db.read() as session:
        det = {d.case_id: d for d in session.query(Determination).filter(Determination.case_id.in_(determined))}
    pci = det[determined[0]].per_capita_income
    relief = det[determined[0]].relief
    assert _yuan(pci) == INSURER_PER_CAPITA and relief > 0
    tolerance = pci // 10  # 10 % of 2,666.67 is 266.667: 266.66 is within, 266.67 is not

    r = rounds.result(round_id, determined[0], per_capita_income=_yuan(pci), eligible=True, relief_amount=_yuan(relief),
                      note="与保险公司核查一致")
    assert (r["deviation"], r["reasons"], r["baseline"]) == (False, [], "determination")
    assert r["insurer_relief"] == _yuan(relief) and r["insurer_per_capita_income"] == INSURER_PER_CAPITA
    assert rounds.report(round_id)["verdict"] == "pending"

    r = rounds.result(round_id, determined[1], per_capita_income=_yuan(pci), eligible=True,
                      relief_amount=_yuan(relief + 1))
    assert r["reasons"] == ["relief"]
    r = rounds.result(round_id, determined[2], per_capita_income=_yuan(pci + tolerance), eligible=True,
                      relief_amount=_yuan(relief))
    assert r["deviation"] is False
    r = rounds.result(round_id, determined[3], per_capita_income=_yuan(pci - tolerance - 1), eligible=True,
                      relief_amount=_yuan(relief))
    assert r["reasons"] == ["income"]
    rounds.result(round_id, determined[4], status=422, per_capita_income=_yuan(pci), eligible=True)  # relief missing
    r = rounds.result(round_id, determined[4], per_capita_income=_yuan(pci), eligible=False, relief_amount="0.00")
    assert r["reasons"] == ["eligibility", "relief"]
    rounds.result(round_id, determined[0], status=409, per_capita_income=_yuan(pci), eligible=True,
                  relief_amount=_yuan(relief))  # one result per case
    rounds.result(round_id, checked, status=422, per_capita_income="12.345", eligible=True)

    # not yet determined: eligibility and income compared with the latest check; relief is not compared
    r = rounds.result(round_id, checked, per_capita_income=INSURER_PER_CAPITA, eligible=True, relief_amount="1.00")
    assert (r["baseline"], r["deviation"], r["insurer_relief"]) == ("check", False, None)

    report = rounds.report(round_id)
    assert (report["sampled"], report["rechecked"], report["deviations"]) == (6, 6, 3)
    assert report["by_reason"] == {"eligibility": 1, "relief": 2, "income": 1}
    assert report["deviation_rate"] == "0.5000" and report["upper_bound"] == "0.5000"  # a census knows the rate
    assert report["verdict"] == "expand" and report["method"] == "hypergeometric"
    rounds.expand(round_id, status=409)  # nothing left to draw
    detail = rounds.get(round_id)
    assert sum(1 for i in detail["items"] if i["result"] and i["result"]["deviation"]) == 3


def test_accept_at_59_and_expand_when_too_many(ctx, hundred_checked, rounds) -> None:  # type: ignore[no-untyped-def]
    assert len(hundred_checked) == 100

    # 59 re-checks without a deviation: accepted
    first = rounds.create(stratify_by_town=False, min_rate="0.59")
    assert (first["sample_size"], first["method"], first["limited_by"]) == (59, "hypergeometric", "minimum_rate")
    drawn = rounds.draw(first["id"])["case_ids"]
    for case_id in drawn[:-1]:
        rounds.result(first["id"], case_id, per_capita_income=INSURER_PER_CAPITA, eligible=True)
    assert rounds.report(first["id"])["verdict"] == "pending"
    rounds.result(first["id"], drawn[-1], per_capita_income=INSURER_PER_CAPITA, eligible=True)
    report = rounds.report(first["id"])
    assert (report["verdict"], report["sampled"], report["deviations"], report["deviation_rate"]) == \
        ("accept", 59, 0, "0.0000")
    assert report["upper_bound"] < "0.0500"
    rounds.expand(first["id"], status=409)
    # The same checks are not sampled a second time (one could keep the sample that suits them): a round over them
    # is refused when opened, before the parties commit to it in vain.
    again = rounds.open(stratify_by_town=False, status=409)
    assert "同一抽样方式的轮次（已抽取样本，核查期间 2020-05-01 至 2020-06-30）" in again["detail"]  # the first


def test_expand_when_too_many(ctx, hundred_checked, rounds) -> None:  # type: ignore[no-untyped-def]
    assert len(hundred_checked) == 100
    # a stratified round of the contract's size finds 2 deviations: widened, then accepted
    second = rounds.create(county="d1ce" * 8)
    n1 = second["sample_size"]
    assert (n1, second["method"], second["expected_deviations"]) == (45, "hypergeometric", 0)
    stage1 = rounds.draw(second["id"], "d1ce" * 8)["case_ids"]
    for i, case_id in enumerate(stage1):
        rounds.result(second["id"], case_id, per_capita_income=INSURER_PER_CAPITA, eligible=i >= 2)
    report = rounds.report(second["id"])
    assert (report["verdict"], report["deviations"], report["deviation_rate"]) == ("expand", 2, "0.0444")
    assert report["upper_bound"] > "0.0500"

    widened = rounds.expand(second["id"])
    assert widened["stage"] == 2 and widened["expected_deviations"] == 2
    stage2 = widened["case_ids"]
    assert stage2 and not set(stage2) & set(stage1)
    assert len(stage1) + len(stage2) == widened["sample_size"]
    detail = rounds.get(second["id"])
    towns: dict[str, int] = {}
    for item in detail["items"]:
        towns[item["town"]] = towns.get(item["town"], 0) + 1
    assert towns == detail["stages"][1]["allocation"]
    assert rounds.report(second["id"])["verdict"] == "pending"
    rounds.expand(second["id"], status=409)
    for case_id in stage2:
        rounds.result(second["id"], case_id, per_capita_income=INSURER_PER_CAPITA, eligible=True)
    report = rounds.report(second["id"])
    assert (report["verdict"], report["deviations"], report["stages"]) == ("accept", 2, 2)

    # the widened draw replays too
    with ctx.db.read() as session:
        replayed = replays.replay(session, second["id"])
    assert replayed.ok, replayed.differences
    env = {"VERIFIER_HOME": str(ctx.settings.home), "VERIFIER_DATABASE_URL": ctx.settings.database_url}
    result = CliRunner().invoke(replay_command, [second["id"]], env=env)
    assert result.exit_code == 0, result.output


def test_a_checked_case_outside_the_round_is_refused(ctx, rounds) -> None:  # type: ignore[no-untyped-def]
    make_population(ctx, {"城关镇": 2})
    created = rounds.create(min_rate="1.00")
    rounds.draw(created["id"])
    late = make_case(ctx, stage="checked")  # checked after the round was frozen: not in it
    rounds.result(created["id"], late, status=422, per_capita_income=INSURER_PER_CAPITA, eligible=True)
    assert late not in rounds.get(created["id"], "/population")["case_ids"]
