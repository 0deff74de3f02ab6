"""One page of a long list, as a stage service answers it: the rows, how many there are in all, which page.

A service builds its SELECT (the caller's counties, the filters, the search, the order) and hands it to `page_of`,
which counts it and takes the page's rows; a page past the last shows the last. `text_search` is the condition a
search box puts on a few text columns (a substring of any, with `%` and `_` taken literally).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, false, func, or_, select
from sqlalchemy.orm import Session

T = TypeVar("T")
PAGE_SIZE = 50
MAX_SEARCH = 50


@dataclass(frozen=True)
class Paged(Generic[T]):
    items: list[T]
    total: int
    page: int
    pages: int
    page_size: int

    def map(self, fn: Callable[[Any], Any]) -> "Paged[Any]":
        return Paged(items=[fn(i) for i in self.items], total=self.total, page=self.page, pages=self.pages,
                     page_size=self.page_size)


_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff\uf900-\ufaff])\s+(?=[\u3400-\u9fff\uf900-\ufaff])")


def close_cjk_gaps(text: str) -> str:
    """Spaces typed between two Chinese characters taken out ("陈 建国" is 陈建国, "西 村" 西村): names and places are
    stored without them, and a clerk often types one between a surname and a given name. Spaces elsewhere stay."""
    return _CJK_GAP.sub("", text)


def fold_search(q: str | None) -> str:
    """A search text as typed, folded (full-width digits and letters of some input methods), trimmed and cut to
    `MAX_SEARCH` characters."""
    return unicodedata.normalize("NFKC", q or "").strip()[:MAX_SEARCH]


# What a clerk types between the parts of a case number read off paper: a space, a slash, a dot, a long dash.
_PARTS_APART = re.compile(r"\s*[\s/_.·—–-]\s*")
_WHOLE_NUMBER = re.compile(r"^(\d{6})-(\d{4})-(\d{1,7})$")
_RUN_TOGETHER = re.compile(r"^(\d{6})(\d{4})(\d{6})$")
_YEAR_SEQ = re.compile(r"^(\d{4})-(\d{1,7})$")


def case_number_typed(text: str) -> tuple[str | None, str | None]:
    """A case number (`340223-2026-000123`) as a clerk types one off paper: (the whole number, None) for the three
    parts (full-width folded; spaced, slashed or long-dashed instead of dashed, or run together), (None, its end
    `-2026-000123`) for the year and sequence without the county (`2026-123`), else (None, None)."""
    parts = _PARTS_APART.sub("-", unicodedata.normalize("NFKC", text).strip())
    whole = _WHOLE_NUMBER.match(parts) or _RUN_TOGETHER.match(parts)
    if whole:
        county, year, seq = whole.groups()
        return f"{county}-{year}-{int(seq):06d}", None
    year_seq = _YEAR_SEQ.match(parts)
    if year_seq:
        return None, f"-{year_seq.group(1)}-{int(year_seq.group(2)):06d}"
    return None, None


def text_search(q: str, columns: Sequence[Any]) -> Any:
    """Rows where any of `columns` contains `q`, a space typed between two Chinese characters aside (`close_cjk_gaps`;
    a search that takes words apart splits them itself first), or a case number `q` names as typed off paper
    (`case_number_typed`); nothing to search for: no condition but `false`."""
    if not q:
        return false()
    q = close_cjk_gaps(q)
    typed = [t for t in case_number_typed(q) if t and t != q]
    return or_(*(column.contains(text, autoescape=True) for column in columns for text in (q, *typed)))


def count_of(session: Session, stmt: Select[Any]) -> int:
    return int(session.scalar(select(func.count()).select_from(stmt.order_by(None).limit(None).subquery())) or 0)


def page_of_list(items: Sequence[T], page: int = 1, page_size: int = PAGE_SIZE) -> Paged[T]:
    """Page `page` of a list already made whole (a filter that only Python can apply); a page past the last shows
    the last."""
    pages = max(1, -(-len(items) // page_size))
    at = min(max(1, page), pages)
    return Paged(items=list(items[(at - 1) * page_size:at * page_size]), total=len(items), page=at, pages=pages,
                 page_size=page_size)


def page_of(session: Session, stmt: Select[Any], page: int = 1, page_size: int = PAGE_SIZE, *,
            rows: bool = False) -> Paged[Any]:
    """Page `page` (from 1) of the ordered `stmt`, with the total; `rows=True` keeps whole result rows (a SELECT of
    several entities or columns) instead of the first column's values."""
    total = count_of(session, stmt)
    pages = max(1, -(-total // page_size))
    page = min(max(1, page), pages)
    limited = stmt.offset((page - 1) * page_size).limit(page_size)
    items = list(session.execute(limited).tuples()) if rows else list(session.scalars(limited))
    return Paged(items=items, total=total, page=page, pages=pages, page_size=page_size)
