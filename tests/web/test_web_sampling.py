"""The sampling pages: a round from its start to its verdict (each party commits on its own page before the
population is frozen, reveals after it), a party passed over after its deadline, widening a sample, roles and
counties."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from factories import COUNTY, loose_sampling_contract, make_case
from kept_rows import kept
from recheck_kit import post_recheck
from pagekit import card_count

from verifier.domain.sampling import population_digest

DICE = "35162 43516 24531 62435 16243 51624 35"  # the county's secret: 32 dice rolls, typed with spaces
INSURER = "9f" * 16
PERIOD = {"checked_from": "2020-05-01", "checked_to": "2020-06-30"}


def _commitment(secret: str) -> str:
    return hashlib.sha256(bytes.fromhex("".join(secret.split()))).hexdigest()


def _commit_and_freeze(pages, url: str, county: str = DICE, insurer: str = INSURER) -> None:  # type: ignore[no-untyped-def]
    """The reviewer commits for the county, the supervisor for the insurer, the reviewer freezes."""
    pages.as_("rev1", "county_reviewer")
    assert pages.post(url + "/commit", {"party": "county", "commitment": _commitment(county)}).status_code == 303
    pages.as_("sup1", "insurer_supervisor")
    assert pages.post(url + "/commit", {"party": "insurer", "commitment": _commitment(insurer)}).status_code == 303
    pages.as_("rev1", "county_reviewer")
    r = pages.post(url + "/freeze", {"confirm": "yes"})
    assert r.status_code == 303 and r.headers["location"] == url + "?done=frozen", r.text


def _reveal_both(pages, url: str, county: str = DICE, insurer: str = INSURER) -> None:  # type: ignore[no-untyped-def]
    pages.as_("sup1", "insurer_supervisor")
    assert pages.post(url + "/reveal", {"party": "insurer", "secret": insurer}).status_code == 303
    pages.as_("rev1", "county_reviewer")
    r = pages.post(url + "/reveal", {"party": "county", "secret": county})
    assert r.status_code == 303 and r.headers["location"] == url + "?done=drawn", r.text


def _population(ctx) -> list[str]:  # type: ignore[no-untyped-def]
    """Six checked cases, three in each of two towns (checked on the clock's day, 2020-06-01)."""
    return [make_case(ctx, stage="checked", town=town, village=f"{town}{i}村", head_name=f"{town[:2]}{'甲乙丙'[i]}")
            for town in ("城关镇", "南山镇") for i in range(3)]


# The six cases of `_population`, built once and copied for each test that starts from them.
six_checked = kept("six_checked", _population)
LOOSE = "340224"  # a county whose contract samples at 80% confidence and a 40% tolerable rate: 3 of 6 cases


def _loose_population(ctx) -> list[str]:  # type: ignore[no-untyped-def]
    loose_sampling_contract(ctx, LOOSE, confidence="0.80", tolerable_rate="0.40")
    return [make_case(ctx, stage="checked", town=town, village=f"{town}{i}村", county=LOOSE,
                      head_name=f"{town[:2]}{'甲乙丙'[i]}") for town in ("城关镇", "南山镇") for i in range(3)]


six_loose = kept("six_loose", _loose_population)


def _loose_people(pages) -> None:  # type: ignore[no-untyped-def]
    """rev1 and sup1 of the loose county (made first: `_commit_and_freeze` then logs them in)."""
    pages.as_("sup1", "insurer_supervisor", counties=(LOOSE,))
    pages.as_("rev1", "county_reviewer", counties=(LOOSE,))


def _drawn_round(pages, ids: list[str], county: str = COUNTY, **form: str) -> tuple[list[str], str]:  # type: ignore[no-untyped-def]
    """The six cases of `_population` (`ids`) and a round of them, committed, frozen and drawn: (the case ids, the
    round's address). Every household is sampled (`min_rate` 1) unless `form` says otherwise."""
    pages.as_("rev1", "county_reviewer")
    url = _round_url(pages.post("/sampling", {"county_code": county, **PERIOD, "kind": "attribute",
                                              **(form or {"min_rate": "1"})}))
    _commit_and_freeze(pages, url)
    _reveal_both(pages, url)
    return ids, url


def _round_url(r) -> str:  # type: ignore[no-untyped-def]
    assert r.status_code == 303, r.text
    m = re.fullmatch(r"(/sampling/smp_\w+)\?done=round", r.headers["location"])
    assert m, r.headers["location"]
    return m.group(1)


def _pending(text: str) -> list[str]:
    return re.findall(r'id="result-(case_\w+)"', text)


def _recheck(pages, ctx, url: str, case_id: str, *, eligible: str = "yes") -> None:  # type: ignore[no-untyped-def]
    r = post_recheck(pages, ctx, url, {"case_id": case_id, "eligible": eligible, "per_capita_income": "2666.67",
                                      "note": "复核一致" if eligible == "yes" else "家中有营运车辆"})
    assert r.status_code == 303, r.text


def test_a_round_from_start_to_verdict(pages, ctx, six_checked) -> None:  # type: ignore[no-untyped-def]
    ids = list(six_checked)
    pages.as_("rev1", "county_reviewer")
    listing = pages.get("/sampling").text
    assert "开始新一轮抽样" in listing and "尚无抽样轮次" in listing
    assert 'placeholder="0.95"' in listing and "demo-2020" in listing  # the contract's parameters as defaults
    r = pages.post("/sampling", {"county_code": COUNTY, "checked_from": "2020-06-30", "checked_to": "2020-05-01",
                                 "kind": "attribute"})
    assert r.status_code == 422 and "不能早于开始日期" in r.text and 'value="2020-06-30"' in r.text
    r = pages.post("/sampling", {"county_code": COUNTY, "checked_from": "2019-01-01", "checked_to": "2019-01-31",
                                 "kind": "attribute"})
    assert r.status_code == 422 and "没有完成入户核查的案件" in r.text
    url = _round_url(pages.post("/sampling", {"county_code": COUNTY, **PERIOD, "kind": "attribute",
                                              "stratify_by_town": "1"}))

    # Open: each party commits on its own form; the freeze waits for both.
    text = pages.get(url + "?done=round").text
    assert "抽样轮次已开始" in text and 'aria-current="step" class="current">承诺' in text
    assert 'id="commit-county"' in text and 'id="commit-insurer"' not in text  # the reviewer acts for the county
    assert 'id="checkpoint"' not in text and 'id="digest"' not in text  # nothing is frozen yet
    assert card_count(pages.get("/").text, "进行中的抽样复核") == 1
    r = pages.post(url + "/commit", {"party": "county", "commitment": "xyz"})
    assert r.status_code == 422 and "只能包含十六进制数字" in r.text
    r = pages.post(url + "/commit", {"party": "insurer", "commitment": _commitment(INSURER)})
    assert r.status_code == 403 and "只有保险公司的人员才能代表该方操作" in r.text
    assert pages.post(url + "/commit", {"party": "county", "commitment": _commitment(DICE)}).status_code == 303
    r = pages.post(url + "/freeze", {"confirm": "yes"})
    assert r.status_code == 409 and "双方都提交承诺后才能冻结总体；尚缺：保险公司" in r.text
    pages.as_("sup1", "insurer_supervisor")
    text = pages.get(url).text
    assert 'id="commit-insurer"' in text and 'id="freeze"' not in text and "待提交承诺" in text
    assert pages.post(url + "/commit", {"party": "insurer", "commitment": _commitment(INSURER)}).status_code == 303
    assert pages.post(url + "/freeze", {"confirm": "yes"}).status_code == 403  # the county reviewer freezes
    pages.as_("rev1", "county_reviewer")
    r = pages.post(url + "/freeze", {"confirm": "yes"})
    assert r.status_code == 303 and r.headers["location"] == url + "?done=frozen"

    # Frozen: the population, its digest and the signed checkpoint, then the reveal forms.
    text = pages.get(url + "?done=frozen").text
    assert "总体已冻结并写入签名检查点" in text
    assert re.search(r"<dt>总体规模</dt><dd><strong>6</strong> 户", text)
    assert population_digest(sorted(ids)).hex() in text
    listed = pages.get(re.search(r'href="(/sampling/[^"]+/population)"', text).group(1))  # with the page's cookie
    assert listed.status_code == 200 and sorted(listed.json()["case_ids"]) == sorted(ids)
    checkpoint = re.search(r'<pre id="checkpoint">(.*?)</pre>', text, re.DOTALL)
    assert checkpoint and "\n\n" in checkpoint.group(1) and "\u2014 " in checkpoint.group(1)  # a signed note
    assert text.index('id="checkpoint"') < text.index('id="reveal-county"')
    assert "城关镇" in text and "南山镇" in text  # the towns' strata
    assert 'id="sample"' not in text and "第四步" not in text  # nothing is drawn yet
    r = pages.post(url + "/commit", {"party": "county", "commitment": "00" * 32})
    assert r.status_code == 409 and "提交后不能更改" in r.text
    r = pages.post(url + "/reveal", {"party": "county", "secret": "1234"})
    assert r.status_code == 422 and "至少 32 位（现为 4 位）" in r.text
    r = pages.post(url + "/reveal", {"party": "county", "secret": "ab" * 16})
    assert r.status_code == 422 and "与该方此前提交的承诺值不符" in r.text
    r = pages.post(url + "/reveal", {"party": "county", "secret": DICE})
    assert r.status_code == 303 and r.headers["location"] == url + "?done=revealed"
    text = pages.get(url).text
    assert "已揭示" in text and "".join(DICE.split()) not in text  # a revealed secret shows only with the draw
    assert re.search(r'冻结记录的序号为 <a href="/audit\?index=\d+">', text)  # the reviewer reads the log
    pages.as_("sup1", "insurer_supervisor")
    # the insurer's supervisor may not open the audit page: the freeze's index is shown, not linked to a refusal
    text = pages.get(url).text
    assert re.search(r"冻结记录的序号为 \d+", text) and 'href="/audit' not in text
    r = pages.post(url + "/reveal", {"party": "insurer", "secret": INSURER})
    assert r.status_code == 303 and r.headers["location"] == url + "?done=drawn"
    pages.as_("rev1", "county_reviewer")
    text = pages.get(url + "?done=drawn").text
    assert "样本已抽取" in text and "".join(DICE.split()) in text and INSURER in text and 'id="seed"' in text
    assert pages.post(url + "/reveal", {"party": "county", "secret": DICE}).status_code == 409
    sampled = _pending(text)
    assert sorted(sampled) == sorted(ids)  # six cases: all of them
    assert "结论：待完成" in text and "样本尚未全部复核" in text

    # Every sampled case is re-checked; the insurer's figures appear only afterwards.
    first = sampled[0]
    form = text.split(f'id="result-{first}"')[1].split("</form>")[0]
    assert "2,666.67" not in form and "保险公司" not in form
    r = post_recheck(pages, ctx, url, {"case_id": first, "per_capita_income": "2666.67"})
    assert r.status_code == 422 and "必填" in r.text.split(f'id="result-{first}"')[1].split("</form>")[0]
    for case_id in sampled:
        _recheck(pages, ctx, url, case_id)
    r = post_recheck(pages, ctx, url, {"case_id": first, "eligible": "yes", "per_capita_income": "1.00"})
    assert r.status_code == 409 and "该案件的复核结果已录入" in r.text
    text = pages.get(url).text
    report = text.split('id="report"')[1]
    assert "接受" in report and "偏差率上限不超过可容忍偏差率" in report
    assert re.search(r"<th>有偏差户数</th><td class=\"num\">0</td>", report)
    assert "无偏差" in text and "保险公司：符合" in text and _pending(text) == []
    assert "扩大样本" not in report.split("</section>")[0].split("</p>", 1)[1]  # no expand button
    listing = pages.get("/sampling").text
    assert url.split("/")[-1] in listing and "接受" in listing
    assert card_count(pages.get("/").text, "进行中的抽样复核") == 0


def test_a_deviation_widens_the_sample(pages, ctx, six_loose) -> None:  # type: ignore[no-untyped-def]
    assert len(six_loose) == 6
    _loose_people(pages)
    url = _round_url(pages.post("/sampling", {"county_code": LOOSE, **PERIOD, "kind": "attribute"}))
    text = pages.get(url).text
    assert "置信度 80%，可容忍偏差率 40%" in text
    assert pages.post(url + "/expand").status_code == 409  # nothing drawn yet
    _commit_and_freeze(pages, url)
    assert "计划样本量</dt><dd>3 户" in pages.get(url).text
    _reveal_both(pages, url)
    sampled = _pending(pages.get(url).text)
    assert len(sampled) == 3
    _recheck(pages, ctx, url, sampled[0], eligible="no")
    for case_id in sampled[1:]:
        _recheck(pages, ctx, url, case_id)
    text = pages.get(url).text
    assert "结论：扩大样本" in text and "认定结论不一致" in text and "有偏差" in text
    assert re.search(r"<th>偏差率</th><td class=\"num\">33\.33%</td>", text)
    r = pages.post(url + "/expand")
    assert r.status_code == 303 and r.headers["location"] == url + "?done=expanded"
    text = pages.get(r.headers["location"]).text
    assert "样本已扩大" in text and "第 2 阶段" in text and len(_pending(text)) == 2
    assert "结论：待完成" in text
    r = pages.post(url + "/expand")
    assert r.status_code == 409 and "只有结论为「扩大样本」的轮次才能扩大样本" in r.text


def test_roles_and_counties(pages, ctx, clock, other_county) -> None:  # type: ignore[no-untyped-def]
    make_case(ctx, stage="checked")
    clock.advance(days=1)  # the factories' officers of both counties share a vehicle name: not on the same day
    make_case(ctx, stage="checked", county=other_county)
    pages.as_("rev-all", "county_reviewer", counties=())
    theirs = _round_url(pages.post("/sampling", {"county_code": other_county, **PERIOD, "kind": "attribute"}))

    pages.as_("rev1", "county_reviewer")
    assert pages.get(theirs).status_code == 404
    assert theirs.split("/")[-1] not in pages.get("/sampling").text
    assert pages.post(theirs + "/commit", {"party": "county", "commitment": "ab" * 32}).status_code == 404
    r = pages.post("/sampling", {"county_code": other_county, **PERIOD, "kind": "attribute"})
    assert r.status_code == 404

    pages.as_("aud1", "auditor", counties=())
    text = pages.get(theirs).text
    assert "待提交承诺" in text and 'id="commit-county"' not in text and 'id="freeze"' not in text
    assert "开始新一轮抽样" not in pages.get("/sampling").text
    assert pages.post(theirs + "/commit", {"party": "county", "commitment": "ab" * 32}).status_code == 403
    assert pages.post("/sampling", {"county_code": other_county, **PERIOD}).status_code == 403

    for role in ("town_clerk", "finance"):
        pages.as_(f"u-{role}", role)
        r = pages.get("/sampling")
        assert r.status_code == 403 and "无权访问" in r.text, role
        assert "抽样复核" not in pages.get("/").text.split("<main")[0]


def test_a_monetary_unit_round(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        make_case(ctx, stage="determined", medical=4_200_000)  # 21,900.00 of relief each
    pages.as_("rev1", "county_reviewer")
    url = _round_url(pages.post("/sampling", {"county_code": COUNTY, **PERIOD, "kind": "monetary",
                                              "stratify_by_town": "1"}))  # never stratified: the box is ignored
    text = pages.get(url).text
    assert "按金额抽样" in text
    _commit_and_freeze(pages, url, county="0123456789abcdef" * 2)
    text = pages.get(url).text
    assert "保障金合计 65,700.00 元" in text and "个金额单位" in text
    _reveal_both(pages, url, county="0123456789abcdef" * 2)
    text = pages.get(url).text
    assert "<th class=\"num\">金额单位</th>" in text and "抽样间隔" in text
    for case_id in _pending(text):
        r = post_recheck(pages, ctx, url, {"case_id": case_id, "eligible": "yes", "per_capita_income": "2666.67"})
        assert r.status_code == 422 and "请填写复核认定的保障金额" in r.text  # the confirmed relief is compared
        r = post_recheck(pages, ctx, url, {"case_id": case_id, "eligible": "yes", "per_capita_income": "2666.67",
                                          "relief_amount": "21,900.00"})
        assert r.status_code == 303, r.text
    assert "结论：接受" in pages.get(url).text


def test_public_value_then_a_party_passed_over_after_its_deadline(pages, ctx, six_checked, clock) -> None:  # type: ignore[no-untyped-def]
    assert len(six_checked) == 6
    pages.as_("rev1", "county_reviewer")
    published = clock.today() + timedelta(days=2)
    r = pages.post("/sampling", {"county_code": COUNTY, **PERIOD, "kind": "attribute",
                                 "public_value_description": "福利彩票双色球开奖号码",
                                 "public_value_available_on": clock.today().isoformat()})
    assert r.status_code == 422 and "须晚于今天" in r.text
    url = _round_url(pages.post("/sampling", {"county_code": COUNTY, **PERIOD, "kind": "attribute",
                                              "public_value_description": "福利彩票双色球开奖号码",
                                              "public_value_available_on": published.isoformat()}))
    _commit_and_freeze(pages, url)
    text = pages.get(url).text
    assert 'id="public-value-form"' in text and 'id="reveal-county"' not in text  # the value comes first
    r = pages.post(url + "/reveal", {"party": "county", "secret": DICE})
    assert r.status_code == 409 and "须先录入本轮约定的公开随机值" in r.text
    r = pages.post(url + "/public-value", {"value": "03 11 19 24 28 33 + 07"})
    assert r.status_code == 409 and "此前不能录入" in r.text
    clock.advance(days=2)
    assert pages.post(url + "/public-value", {"value": "03 11 19 24 28 33 + 07"}).status_code == 303
    assert pages.post(url + "/public-value", {"value": "01 02 03"}).status_code == 409
    assert pages.post(url + "/reveal", {"party": "county", "secret": DICE}).status_code == 303
    text = pages.get(url).text
    assert 'id="reveal-by"' in text and 'id="pass-over-insurer"' not in text
    r = pages.post(url + "/pass-over", {"party": "insurer", "confirm": "yes"})
    assert r.status_code == 409 and "过了这一天才能略过" in r.text
    clock.advance(days=8)  # reveal_within_days = 7 in the demo contract
    text = pages.get(url).text
    assert 'id="pass-over-insurer"' in text
    r = pages.post(url + "/pass-over", {"party": "insurer", "confirm": "yes"})
    assert r.status_code == 303 and r.headers["location"] == url + "?done=passed_over"
    text = pages.get(url).text
    assert 'id="withheld"' in text and "未按期揭示：保险公司" in text and "未揭示，已略过" in text
    assert "03 11 19 24 28 33 + 07" in text and 'id="seed"' in text and 'id="sample"' in text


def test_saving_a_result_returns_to_its_row_and_a_result_is_corrected_before_the_verdict(pages, ctx, six_loose) -> None:  # type: ignore[no-untyped-def]
    _loose_people(pages)
    _, url = _drawn_round(pages, six_loose, LOOSE, confidence="0.80", tolerable_rate="0.40")
    sampled = _pending(pages.get(url).text)
    r = post_recheck(pages, ctx, url, {"case_id": sampled[0], "eligible": "no", "per_capita_income": "2666.67"})
    assert r.status_code == 303 and r.headers["location"] == f"{url}?done=recheck#item-{sampled[0]}"
    text = pages.get(url).text
    assert f'<tr id="item-{sampled[0]}">' in text and f'id="correct-{sampled[0]}"' in text

    fix = f"{url}/results/{sampled[0]}/correct"
    r = pages.post(fix, {"eligible": "yes", "per_capita_income": "2666.67", "reason": ""})
    assert r.status_code == 422 and "更正原因" in r.text and "<details class=\"correct\" open>" in r.text
    r = pages.post(fix, {"eligible": "yes", "per_capita_income": "2666.67", "reason": "误选，入户记录为符合"})
    assert r.status_code == 303 and r.headers["location"] == f"{url}?done=corrected#item-{sampled[0]}"
    text = pages.get(r.headers["location"]).text
    assert "复核结果已更正" in text and "已更正：rev1" in text and "原因：误选，入户记录为符合" in text

    pages.as_("sup1", "insurer_supervisor")
    assert pages.post(fix, {"eligible": "no", "per_capita_income": "1", "reason": "x"}).status_code == 403
    pages.as_("rev1", "county_reviewer")
    for case_id in sampled[1:]:
        _recheck(pages, ctx, url, case_id)
    text = pages.get(url).text
    assert "结论：接受" in text and 'id="correct-' not in text
    r = pages.post(fix, {"eligible": "no", "per_capita_income": "2666.67", "reason": "再改"})
    assert r.status_code == 409 and "本轮已得出结论，复核结果不能再更正" in r.text


def test_freezing_and_passing_over_ask_for_the_confirmation_box(pages, ctx, six_checked, clock) -> None:  # type: ignore[no-untyped-def]
    """Neither a stray click nor a hand-made POST freezes a round or draws without a late party's secret: both
    cannot be undone, so the page asks for its box and a POST without it changes nothing."""
    assert len(six_checked) == 6
    pages.as_("rev1", "county_reviewer")
    url = _round_url(pages.post("/sampling", {"county_code": COUNTY, **PERIOD, "kind": "attribute"}))
    pages.as_("rev1", "county_reviewer")
    assert pages.post(url + "/commit", {"party": "county", "commitment": _commitment(DICE)}).status_code == 303
    pages.as_("sup1", "insurer_supervisor")
    assert pages.post(url + "/commit", {"party": "insurer", "commitment": _commitment(INSURER)}).status_code == 303
    pages.as_("rev1", "county_reviewer")
    form = re.search(r'<form[^>]*id="freeze".*?</form>', pages.get(url).text, re.S).group(0)
    assert 'name="confirm" value="yes" required' in form and "不能撤回" in form
    r = pages.post(url + "/freeze")
    assert r.status_code == 422 and "冻结后总体名单和检查点不能更改：请勾选确认框" in r.text
    assert 'id="confirm-error"' in r.text and 'id="checkpoint"' not in r.text
    assert 'id="freeze"' in pages.get(url).text  # still open
    assert pages.post(url + "/freeze", {"confirm": "yes"}).status_code == 303

    assert pages.post(url + "/reveal", {"party": "county", "secret": DICE}).status_code == 303
    clock.advance(days=8)  # past the insurer's reveal deadline
    form = re.search(r'<form[^>]*id="pass-over-insurer".*?</form>', pages.get(url).text, re.S).group(0)
    assert 'name="confirm" value="yes" required' in form
    r = pages.post(url + "/pass-over", {"party": "insurer"})
    assert r.status_code == 422 and "略过后将不含该方秘密值抽取样本，不能撤回：请勾选确认框" in r.text
    assert 'id="sample"' not in pages.get(url).text  # nothing drawn
    r = pages.post(url + "/pass-over", {"party": "insurer", "confirm": "yes"})
    assert r.status_code == 303 and r.headers["location"] == url + "?done=passed_over"


def test_rounds_are_found_by_their_name_county_kind_and_period(pages, ctx, six_checked) -> None:  # type: ignore[no-untyped-def]
    assert len(six_checked) == 6  # checked on 2020-06-01
    pages.as_("rev1", "county_reviewer")
    both = _round_url(pages.post("/sampling", {"county_code": COUNTY, **PERIOD, "kind": "attribute"}))
    june = _round_url(pages.post("/sampling", {"county_code": COUNTY, "checked_from": "2020-06-01",
                                               "checked_to": "2020-06-15", "kind": "attribute"}))

    def found(q: str) -> set[str]:
        r = pages.get("/sampling", params={"q": q})
        assert r.status_code == 200
        return {u for u in (both, june) if f'href="{u}"' in r.text}

    assert found("示范县") == {both, june}  # the county's Chinese name
    assert found("按户抽样") == {both, june} and found("按金额") == set()  # the kind
    assert found("2020-05") == {both} and found("2020-06-15") == {june}  # the checks' period
    assert found("示范县 · 按户抽样 · 2020-06-01 至 2020-06-15") == {june}  # the name as shown, copied whole
    assert found("示范县 2020-06-30") == {both}  # words apart, each found
    assert found(COUNTY) == {both, june} and found(june.rsplit("/", 1)[1].upper()) == {june}  # code and id still
    r = pages.get("/sampling", params={"q": "黄山区"})
    assert '没有符合条件的抽样轮次。<a href="/sampling">显示全部轮次</a>' in r.text  # a way back to every round


def test_a_drawn_round_reads_on_a_phone_summary_first_searched_and_folded(pages, ctx, six_checked) -> None:  # type: ignore[no-untyped-def]
    ids, url = _drawn_round(pages, six_checked)
    text = pages.get(url).text
    sampled = re.findall(r'id="item-(case_\w+)"', text)
    assert sorted(sampled) == sorted(ids)
    _recheck(pages, ctx, url, next(c for c in sampled if c != ids[4]))  # ids[4] is searched for below, still to do
    text = pages.get(url).text
    # the counts before the sample: each town with what is left to re-check there
    summary = text.split('id="round-summary"')[1].split("</section>")[0]
    assert text.index('id="round-summary"') < text.index('id="draw-facts"') < text.index('id="sample"')
    assert "抽样 <strong>6</strong> 户，已复核 <strong>1</strong> 户" in summary and "待录入 <strong>5</strong> 户" in summary
    assert "城关镇</a> 3 户" in summary and "南山镇</a> 3 户" in summary
    # one folded form per household still to re-check, none opened (the summary names each)
    assert text.count('<details class="panel result-entry"') == 5 and 'result-entry" id="entry-' in text
    assert ' open>' not in text.split('id="to-recheck"')[1].split('id="report"')[0]
    # searched by the head's name, a number's tail, a town: the rows and the forms narrowed alike
    with ctx.db.read() as session:
        from verifier.cases.numbers import numbers_of
        numbers = numbers_of(session, ids)
    town_of = {cid: ("城关镇" if i < 3 else "南山镇") for i, cid in enumerate(ids)}
    target = ids[4]
    for q in ("南山乙", numbers[target][-3:].lstrip("0") or numbers[target][-1], numbers[target]):
        found = pages.get(url, params={"q": q}).text
        assert re.findall(r'id="item-(case_\w+)"', found) == [target], q
        assert _pending(found) == [target] and "显示 1 / 6 户" in found
        assert f'id="entry-{target}" open>' in found  # the one form left is opened
    found = pages.get(url, params={"town": "南山镇"}).text
    assert sorted(re.findall(r'id="item-(case_\w+)"', found)) == sorted(c for c in ids if town_of[c] == "南山镇")
    assert '<option value="南山镇" selected>' in found and "显示 3 / 6 户" in found
    nothing = pages.get(url, params={"q": "无此人"}).text
    assert "没有符合条件的样本" in nothing and _pending(nothing) == []
    # a refused form is opened again with what was typed
    r = post_recheck(pages, ctx, url, {"case_id": target, "eligible": "yes", "per_capita_income": "三千"})
    assert r.status_code == 422 and f'id="entry-{target}" open>' in r.text


def test_the_town_filter_is_the_one_shown_and_a_household_without_a_town_has_its_own(pages, ctx, six_checked) -> None:  # type: ignore[no-untyped-def]
    """The rows are narrowed by the town the page says it shows: a town the sample does not hold is no filter (every
    row, the select at 全部乡镇, no 显示 notice), and 未填乡镇 has a value of its own (an empty one means 全部乡镇)."""
    from sqlalchemy import update

    from verifier.store.tables import Case
    from verifier.web.sampling import NO_TOWN

    ids, url = _drawn_round(pages, six_checked)
    blank = ids[0]
    with ctx.db.begin() as session:  # a household whose town was never filled in (as an old import may have it)
        session.execute(update(Case).where(Case.id == blank).values(town=""))
    rows = re.compile(r'id="item-(case_\w+)"')
    text = pages.get(url).text
    summary = text.split('id="round-summary"')[1].split("</section>")[0]
    assert f'href="?town={NO_TOWN}#sample" class="name">未填乡镇</a> 1 户' in summary
    assert f'<option value="{NO_TOWN}">未填乡镇</option>' in text
    found = pages.get(url, params={"town": NO_TOWN}).text
    assert rows.findall(found) == [blank] and "显示 1 / 6 户" in found
    assert f'<option value="{NO_TOWN}" selected>未填乡镇</option>' in found
    for asked in ("北山镇", ""):  # a town not in the sample, none: every row, said as 全部乡镇
        found = pages.get(url, params={"town": asked}).text
        assert sorted(rows.findall(found)) == sorted(ids), asked
        assert 'id="sample-shown"' not in found, asked
        assert " selected>" not in found.split('id="f-town"')[1].split("</select>")[0], asked
    found = pages.get(url, params={"town": "南山镇"}).text
    assert sorted(rows.findall(found)) == sorted(ids[3:]) and "显示 3 / 6 户" in found


def test_only_those_who_record_results_are_sent_to_the_results_forms(pages, ctx, six_checked) -> None:  # type: ignore[no-untyped-def]
    """The summary's 待录入 links to the results' forms (#to-recheck) for a county reviewer; a reader (an auditor, the
    insurer's supervisor) reads the count, with no link to a heading their page does not have."""
    _, url = _drawn_round(pages, six_checked)
    text = pages.get(url).text
    assert '<a href="#to-recheck">待录入 <strong>6</strong> 户</a>' in text and 'id="to-recheck"' in text
    for reader in (("aud1", "auditor"), ("sup1", "insurer_supervisor")):
        pages.as_(*reader)
        text = pages.get(url).text
        summary = text.split('id="round-summary"')[1].split("</section>")[0]
        assert "待录入 <strong>6</strong> 户" in summary, reader
        assert 'href="#to-recheck"' not in text and 'id="to-recheck"' not in text, reader


def test_a_round_leaving_days_unsampled_is_refused_and_the_form_keeps_its_input(pages, ctx, six_checked, clock) -> None:  # type: ignore[no-untyped-def]
    assert len(six_checked) == 6  # checked on 2020-06-01
    pages.as_("rev1", "county_reviewer")
    url = _round_url(pages.post("/sampling", {"county_code": COUNTY, **PERIOD, "kind": "attribute"}))
    _commit_and_freeze(pages, url)
    clock.advance(days=50)
    make_case(ctx, stage="checked")
    end = clock.today().isoformat()
    r = pages.post("/sampling", {"county_code": COUNTY, "checked_from": "2020-07-15", "checked_to": end,
                                 "kind": "attribute"})
    assert r.status_code == 409, r.text
    assert ("上一轮抽样（示范县 · 按户抽样 · 2020-05-01 至 2020-06-30）截至 2020-06-30，本轮须自 2020-07-01 起，"
            "不能留下未纳入抽样的日期（2020-07-01 至 2020-07-14）") in r.text
    assert 'value="2020-07-15"' in r.text and f'value="{end}"' in r.text
    assert "previous round" not in r.text  # no English leaks
    _round_url(pages.post("/sampling", {"county_code": COUNTY, "checked_from": "2020-07-01", "checked_to": end,
                                        "kind": "attribute"}))
