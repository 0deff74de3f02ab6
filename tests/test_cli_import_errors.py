"""Every import on the command line (`import`, `roster import`, `registers import`, `places import`) refuses a file it
cannot use in Chinese, naming the file and, for a bad cell, its row and column: an unreadable file (a .txt, a
workbook that is not one, an old .xls, text in no known encoding, an empty file), a header with no known column,
bad cells, a file over the row limit; and no import takes `--as` (each is recorded as the operator's)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from cli_kit import init_home

from verifier.cli import main

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = {
    "referrals": ["import", "--channel", "civil_affairs", "--county", "340223"],
    "roster": ["roster", "import", "--county", "340223"],
    "register": ["registers", "import", "--kind", "vehicle", "--county", "340223"],
    "places": ["places", "import", "--county", "340223"],
}
UNREADABLE = {
    "名单.txt": b"hello\n",
    "名单.xlsx": b"this is not a workbook",
    "旧版.xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64,
    "乱码.csv": b"\xff\xfe\x00\x81\x82\x83\xff\x80\x81",
    "空.csv": b"",
    "表头不对.csv": b"a,b\n1,2\n",
}
# Two or more English words in a row, the way the parsers write their messages ("nothing imported", "row 2").
ENGLISH = re.compile(r"\b(?!xlsx\b|csv\b|xls\b|txt\b|CSV\b|UTF\b|GBK\b|Excel\b|WPS\b)[A-Za-z]{2,}\b")


@pytest.fixture
def env(tmp_path: Path, database_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    env = {"VERIFIER_HOME": str(tmp_path / "home"), "VERIFIER_DATABASE_URL": database_url,
           "VERIFIER_MAX_IMPORT_ROWS": "5"}
    init_home(env, tmp_path_factory)  # verifier init --contracts contracts/
    return env


def _refused(env: dict[str, str], command: str, path: Path, *extra: str) -> str:
    args = COMMANDS[command]
    out = CliRunner().invoke(main, [*args[: 1 if command == "referrals" else 2], str(path),
                                    *args[1 if command == "referrals" else 2:], *extra], env=env)
    assert out.exit_code == 1, (command, path.name, out.output)
    text = out.output.replace(str(path), "")
    assert str(path) in out.output and "未导入任何内容" in out.output, (command, path.name, out.output)
    assert not ENGLISH.search(text), (command, path.name, out.output)
    return text


def test_an_unreadable_file_is_refused_in_chinese_by_every_import(env: dict[str, str], tmp_path: Path) -> None:
    for name, data in UNREADABLE.items():
        path = tmp_path / name
        path.write_bytes(data)
        for command in COMMANDS:
            _refused(env, command, path)


def test_bad_cells_name_their_row_and_column_in_chinese(env: dict[str, str], tmp_path: Path) -> None:
    referrals = tmp_path / "转介.csv"
    referrals.write_text("身份证号,姓名,乡镇,村,户类型,原因,金额,日期\n"
                         "123,张三,城关镇,东村,一般户,因穷,12a,2020-02-30\n", encoding="utf-8")
    out = _refused(env, "referrals", referrals)
    for shown in ("第 2 行，“身份证号”列：应为 18 位，现为 3 位", "第 2 行，“金额”列：", "第 2 行，“户类型”列：",
                  "第 2 行，“原因”列：", "第 2 行，“日期”列："):
        assert shown in out, out
    roster = tmp_path / "名册.csv"
    roster.write_text("身份证号,类别\n340223196001010018,一般户\n", encoding="utf-8")
    assert "第 2 行，“名册类别”列：「一般户」不是名册类别" in _refused(env, "roster", roster)
    register = tmp_path / "车辆.csv"
    register.write_text("身份证号,号牌号码,车辆价值\n340223196001010018,,很多\n", encoding="utf-8")
    out = _refused(env, "register", register)
    assert "第 2 行，“号牌号码”列：必填" in out and "第 2 行，“车辆价值”列：" in out
    places = tmp_path / "乡镇村.csv"
    places.write_text("乡镇,村\n城关镇,\n", encoding="utf-8")
    assert "第 2 行：缺少村名称" in _refused(env, "places", places)


def test_a_file_over_the_limit_and_an_importer_named_by_as_are_refused_in_chinese(env: dict[str, str],
                                                                               tmp_path: Path) -> None:
    headers = {"roster": "身份证号,类别", "register": "身份证号,号牌号码,车辆价值", "places": "乡镇,村"}
    for command, header in headers.items():  # files read whole (a referral file is refused as it streams)
        many = tmp_path / f"太多-{command}.csv"
        many.write_text(header + "\n" + "".join(f"a{i},b{i},c{i}\n" for i in range(10)), encoding="utf-8")
        assert "设置项 VERIFIER_MAX_IMPORT_ROWS" in _refused(env, command, many)
    assert CliRunner().invoke(main, ["users", "add", "clerk9", "--role", "county_reviewer", "--county", "340223"],
                              env=env, input="a-long-pass-9\n").exit_code == 0
    for command in COMMANDS:  # no import is recorded in another user's name: each is the operator's (no --as)
        out = CliRunner().invoke(main, [*COMMANDS[command][: 1 if command == "referrals" else 2], str(many),
                                        *COMMANDS[command][1 if command == "referrals" else 2:], "--as", "clerk9"],
                                 env=env)
        assert out.exit_code == 2 and "错误：没有选项 --as。" in out.output, out.output
        # said plainly, the same for each (not click's suggestion of `registers import --as-of`)
        assert "不能以其他用户的名义导入（--as 已取消）" in out.output and "as-of" not in out.output, out.output
        said = re.sub(r"'?--[a-z-]+'?", "", out.output.split("错误：", 1)[1])  # option names stay as typed
        assert not ENGLISH.search(said), out.output
