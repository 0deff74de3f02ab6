"""A table of Chinese messages applied to a message in English: (pattern, Chinese or a function of the match), the
first pattern that matches the whole message wins. The audit notes, the contract's problems and the pages' messages
each keep such a table; this is how every one of them is read."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TypeAlias

Chinese: TypeAlias = str | Callable[[re.Match[str]], str]
Table: TypeAlias = list[tuple[re.Pattern[str], Chinese]]


def compile_table(rows: Iterable[tuple[str, Chinese]]) -> Table:
    """A table written as (regular expression, Chinese) rows, its patterns compiled once."""
    return [(re.compile(pattern), out) for pattern, out in rows]


def translate(table: Table, text: str) -> str | None:
    """The Chinese for `text` by the first pattern of `table` that matches it whole: the row's string, or its function
    of the match; None when no pattern does."""
    for pattern, out in table:
        m = pattern.fullmatch(text)
        if m:
            return out if isinstance(out, str) else out(m)
    return None
