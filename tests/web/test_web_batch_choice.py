"""生成支付批次 for a county with many cases ready to pay: claims searches them as the case lists are searched (姓名、
案件编号、身份证号后四位), limits them to a town or a village, ticks or clears every case shown at once, sees the count
and total of the chosen (added up by the server, with thousands and 元 as every page writes money), and keeps every choice across a search and a
refused batch."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

from caselist_helpers import members_of, number_of
from factories import COUNTY, ready_case
from test_web_payments import BIG, _batch_url

from verifier.domain.money import grouped_yuan
from verifier.payments import choosing
from verifier.web.templating import STATIC_DIR

PAGE = f"/payments/new?county_code={COUNTY}&contract_id=demo-2020"
BASE = {"county_code": COUNTY, "contract_id": "demo-2020"}
EAST = 50  # with 西村 and 河口镇南村, 65 cases ready to pay: more than the page shows (60, below)


def _shown(html: str) -> list[str]:
    return re.findall(r'<input type="checkbox" name="case_ids" value="(\w+)"', html)


def _ticked(html: str) -> set[str]:
    return set(re.findall(r'<input type="checkbox" name="case_ids" value="(\w+)"[^>]* checked>', html)) | set(
        re.findall(r'<input type="hidden" name="case_ids" value="(\w+)"', html))


def _sum(html: str) -> tuple[int, str]:
    m = re.search(r"已选 <strong data-chosen-count>(\d+)</strong> 户，认定保障金合计 <strong data-chosen-total>([\d,.]+ 元)<",
                  html)
    assert m, html
    return int(m.group(1)), m.group(2)


def test_claims_finds_ticks_and_counts_among_many_cases_and_keeps_the_choice(pages, ctx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    east = [ready_case(ctx, village="东村") for _ in range(EAST)]
    west = [ready_case(ctx, village="西村", medical=BIG) for _ in range(6)]
    river = [ready_case(ctx, town="河口镇", village="南村") for _ in range(8)]
    named = ready_case(ctx, village="西村", head_name="欧阳秀英", medical=BIG)
    west.append(named)
    everyone = east + west + river
    monkeypatch.setattr(choosing, "SHOW_AT_MOST", 60)  # a county larger than a page: the rest found by a search
    pages.as_("claims1", "insurer_claims")

    first = pages.get(PAGE).text
    assert len(_shown(first)) == 60 and _ticked(first) == set(everyone)  # all chosen at first, most not shown
    assert f"共 {len(everyone)} 户，显示前 60 户，请用查找或乡镇、村缩小范围" in first
    assert _sum(first)[0] == len(everyone) == EAST + 15

    # a village: the cases of it are shown, the others' choice kept as hidden fields
    r = pages.post("/payments/new", {**BASE, "do": "find", "place": "城关镇/西村", "case_ids": everyone})
    assert r.status_code == 200 and sorted(_shown(r.text)) == sorted(west)
    assert _ticked(r.text) == set(everyone)
    r = pages.post("/payments/new", {**BASE, "do": "find", "place": "城关镇/西村", "case_ids": west})
    cells = re.findall(r'<td class="num">([\d,]+)\.(\d\d)</td>', r.text)
    fen = sum(int(y.replace(",", "")) * 100 + int(f) for y, f in cells)
    assert len(cells) == 7 and fen >= 100_000_00  # the server's total is the rows' shown, grouped by thousands
    assert _sum(r.text) == (7, f"{fen // 100:,}.{fen % 100:02d} 元")
    # clear what is shown: the seven of 西村 leave the choice, the others stay
    r = pages.post("/payments/new", {**BASE, "do": "none_shown", "place": "城关镇/西村", "case_ids": everyone})
    assert _ticked(r.text) == set(east + river) and _sum(r.text)[0] == EAST + 8
    # a town
    r = pages.post("/payments/new", {**BASE, "do": "find", "place": "河口镇", "case_ids": east})
    assert sorted(_shown(r.text)) == sorted(river) and _ticked(r.text) == set(east)
    r = pages.post("/payments/new", {**BASE, "do": "all_shown", "place": "河口镇", "case_ids": east})
    assert _ticked(r.text) == set(east + river) and _sum(r.text)[0] == EAST + 8

    # the case lists' search: a name, the end of a case number, an ID number's last four
    (_, _, head_id), *_ = members_of(ctx, named)
    # random ID numbers: another case may hold a member with the same last four, and is then found too, as is the
    # case those digits number (0048 also names case …-000048, as a typed sequence number does)
    tail = head_id[-4:]
    same_tail = sorted(c for c in everyone if any(i[-4:] == tail for _, _, i in members_of(ctx, c))
                       or (tail.isdigit() and number_of(ctx, c).endswith(f"-{int(tail):06d}")))
    for q, found in (("欧阳秀", [named]), (number_of(ctx, named)[-6:], [named]), (head_id[-4:], same_tail)):
        r = pages.post("/payments/new", {**BASE, "do": "find", "q": q, "case_ids": [east[0]]})
        assert sorted(_shown(r.text)) == found, q
        assert _ticked(r.text) == {east[0]}, q  # found, not chosen by being found
        # in the history as the page's GET address (Back: no 确认重新提交表单), the search kept out of it
        assert f'data-form-page="{PAGE.replace("&", "&amp;")}"' in r.text, q
    r = pages.post("/payments/new", {**BASE, "do": "find", "q": "无此人", "case_ids": [east[0]]})
    assert "没有找到符合条件的待支付案件" in r.text and _ticked(r.text) == {east[0]}

    # refused (one chosen case is no longer ready to pay): the page says why, keeps every choice and the search
    chosen = east[:3] + [named]
    paid = _batch_url(pages.post("/payments/new", {**BASE, "do": "create", "case_ids": [east[2]]}))
    r = pages.post("/payments/new", {**BASE, "do": "create", "q": "欧阳", "case_ids": chosen})
    assert r.status_code == 422 and "未能生成批次" in r.text
    assert _ticked(r.text) == set(chosen) - {east[2]} and 'value="欧阳"' in r.text
    assert "已勾选的 1 户已不再待支付" in r.text
    url = _batch_url(pages.post("/payments/new", {**BASE, "do": "create", "case_ids": east[:2] + [named]}))
    assert url != paid
    shown = pages.get(url).text
    assert "欧阳秀英" in shown and shown.count("/cases/") >= 3
    # what was paid is offered no more
    assert not set(_shown(pages.get(PAGE).text)) & {east[0], east[1], east[2], named}


def test_only_claims_of_the_county_chooses(pages, ctx, other_county) -> None:  # type: ignore[no-untyped-def]
    ready_case(ctx)
    for user, role, counties in (("fin1", "finance", (COUNTY,)), ("officer1", "field_officer", (COUNTY,))):
        pages.as_(user, role, counties=counties)
        assert pages.get(PAGE).status_code in (403, 404)
    pages.as_("claims9", "insurer_claims", counties=(other_county,))
    assert pages.get(PAGE).status_code in (403, 404)
    r = pages.post("/payments/new", {**BASE, "do": "find"})
    assert r.status_code in (403, 404)


def test_a_refused_search_stands_as_a_page_that_can_take_back_every_choice(pages, ctx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Back, Forward or a reload onto a search's answer loads its GET address, which the server answers with every
    case ready chosen; app.js keeps the choice in the history entry and puts it back (walked in Chromium by
    tests/browser/test_browser_clerk_walk_left.py). What it needs of the server: every case ready is on that page, as
    a row or a hidden field, each with its relief, so any choice among them is counted right in the browser."""
    cases = [ready_case(ctx, village="东村") for _ in range(5)] + [ready_case(ctx, village="西村", medical=BIG) for _ in range(3)]
    monkeypatch.setattr(choosing, "SHOW_AT_MOST", 4)
    pages.as_("claims1", "insurer_claims")
    chosen = [cases[0], cases[5], cases[6]]
    r = pages.post("/payments/new", {**BASE, "do": "find", "q": "查" * 51, "case_ids": chosen})  # too long a search
    assert r.status_code == 200 and "搜索内容最多 50 个字符" in r.text
    assert f'data-form-page="{PAGE.replace("&", "&amp;")}"' in r.text and _ticked(r.text) == set(chosen)
    fen = _fields(r.text)
    assert set(chosen) <= set(fen) and _sum(r.text) == (3, _yuan(sum(fen[c] for c in chosen)))
    assert "（其中 <span data-hidden-count>2</span> 户不在当前显示中）" in r.text  # 西村's: not among the 4 shown
    back = pages.get(PAGE).text  # what Back loads: every case ready, each with its relief, as in the answer
    assert _ticked(back) == set(_fields(back)) == set(cases) and fen.items() <= _fields(back).items()
    assert 'src="/static/app.js' in back and "<script>" not in back  # the script is the site's file (CSP)


def _fields(html: str) -> dict[str, int]:
    """Each case on the page (a row's box or a hidden field of a case not shown) → its relief in fen."""
    return {cid: int(f) for cid, f in re.findall(
        r'<input type="(?:checkbox|hidden)" name="case_ids" value="(\w+)"[^>]* data-fen="(\d+)"', html)}


def _yuan(fen: int) -> str:
    return f"{fen // 100:,}.{fen % 100:02d} 元"


def test_the_totals_are_written_as_every_other_page_writes_money(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    """The chooser wrote its total ¥28,200.00, on the server and in app.js as boxes are ticked, where every other
    page writes 28,200.00 元 (`|yuan`, then 元)."""
    cases = [ready_case(ctx, village="西村", medical=BIG) for _ in range(3)]
    pages.as_("claims1", "insurer_claims")
    html = pages.get(PAGE).text
    fen = _fields(html)
    assert set(fen) == set(cases) and _sum(html) == (3, grouped_yuan(sum(fen.values())) + " 元")
    assert "¥" not in html and "￥" not in html
    script = (STATIC_DIR / "app.js").read_text("utf-8")
    assert "¥" not in script and "￥" not in script
    body = re.search(r"function yuanOf\(fen\) \{.*?\n  \}", script, flags=re.S)
    assert body, "app.js has no yuanOf"
    node = shutil.which("node")
    if node is None:  # the function's text at least ends as the pages do
        assert '+ " 元";' in body.group(0)
        return
    amounts = [0, 5, 99, 100, 123456, 2_820_000, 123_456_789_01]
    run = body.group(0) + f"\nconsole.log(JSON.stringify({amounts}.map(yuanOf)));"
    out = subprocess.run([node, "-e", run], capture_output=True, text=True, timeout=30, check=True).stdout
    assert json.loads(out) == [grouped_yuan(f) + " 元" for f in amounts]
