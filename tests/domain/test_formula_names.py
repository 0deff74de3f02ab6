"""A payee's or bank's name that a spreadsheet would take for a formula is refused, said in Chinese by the one check
(`cells.formula_problem`) that the payee check uses."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("text,said", [("=1+1", "不能以=开头（表格软件会把它当作公式）"),
                                       ("\t张三", "不能以制表符开头（表格软件会把它当作公式）"),
                                       ("\r张三", "不能以回车符开头（表格软件会把它当作公式）"), ("张三", None)])
def test_a_formula_in_a_name_is_refused_in_chinese(text: str, said: str | None) -> None:
    from verifier.domain.cells import formula_problem
    from verifier.domain.payee import check_payee

    assert formula_problem(text) == said
    _, problems = check_payee(text, "工商银行", "6222020200112233445")
    assert [p.message for p in problems] == ([said] if said else [])
