"""Numbered pages for every long list: the total, the page links, and the list's filters kept in each link.

A page handler builds a `Pager` from what it counted and the query it was given; the template shows it with
`{% from "_pager.html" import pager %}{{ pager(p) }}`, and builds its sort links with `p.url(sort=..., page=None)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

PAGE_SIZE = 50


def page_param(value: Any) -> int:
    """A page number from the address bar: anything that is not a positive whole number is page 1."""
    try:
        n = int(str(value or "1").strip())
    except ValueError:
        return 1
    return n if n >= 1 else 1


def clamp(page: int, total: int, page_size: int = PAGE_SIZE) -> tuple[int, int, int]:
    """(page, pages, offset): a page past the last shows the last."""
    pages = max(1, -(-total // page_size))
    page = min(max(1, page), pages)
    return page, pages, (page - 1) * page_size


@dataclass(frozen=True)
class Pager:
    path: str
    params: tuple[tuple[str, str], ...]  # the list's filters, search and sort, as in the address bar
    page: int
    pages: int
    total: int
    page_size: int = PAGE_SIZE

    @classmethod
    def of(cls, path: str, params: Mapping[str, Any], *, page: int, pages: int, total: int,
           page_size: int = PAGE_SIZE) -> "Pager":
        kept = tuple((k, str(v)) for k, v in params.items() if v not in (None, "") and k != "page")
        return cls(path=path, params=kept, page=page, pages=pages, total=total, page_size=page_size)

    @classmethod
    def over(cls, path: str, params: Mapping[str, Any], found: Any) -> "Pager":
        """The pager of a page a stage service answered (store/paged.py `Paged`: total, page, pages, page_size)."""
        return cls.of(path, params, page=found.page, pages=found.pages, total=found.total, page_size=found.page_size)

    def url(self, **changes: Any) -> str:
        """This list's address with `changes` (None drops a parameter; page 1 is left out)."""
        query = dict(self.params)
        query["page"] = str(self.page)
        for k, v in changes.items():
            if v is None or v == "":
                query.pop(k, None)
            else:
                query[k] = str(v)
        if query.get("page") == "1":
            query.pop("page")
        return self.path + (("?" + urlencode(query)) if query else "")

    def links(self, around: int = 2) -> list[int | None]:
        """The pages to link: the first, the last, and `around` on each side of this one (None: a gap)."""
        wanted = sorted({1, self.pages, *range(max(1, self.page - around), min(self.pages, self.page + around) + 1)})
        out: list[int | None] = []
        for n in wanted:
            if out and out[-1] is not None and n - out[-1] > 1:
                out.append(None)
            out.append(n)
        return out

    @property
    def first_row(self) -> int:
        return 0 if self.total == 0 else (self.page - 1) * self.page_size + 1

    @property
    def last_row(self) -> int:
        return min(self.total, self.page * self.page_size)
