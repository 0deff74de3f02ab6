"""Where an action on a user leads back to: the users list as the admin left it (role, 在用/已停用, search, page).

The list's links to 停用、启用、设置密码、增加角色 carry its filters; the action's page keeps them in its form and in
its 返回用户列表 link, and the action's redirect lands on that same filtered page. Only known values are kept (an
unknown role or state is no filter, as on the list), so nothing else rides along."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from ..accounts.service import ROLES
from . import labels
from .common import see_other

PATH = "/users"
SEARCH_MAX = 64  # the list's own limit on its search box


@dataclass(frozen=True)
class ListBack:
    params: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> "ListBack":
        """The list's filters out of an address's query or a form's fields, each checked as the list checks it."""
        def text(name: str) -> str:
            value = values.get(name)
            return value.strip() if isinstance(value, str) else ""

        role, state, q, page = text("role"), text("state"), text("q")[:SEARCH_MAX], text("page")
        kept = (("role", role if role in ROLES else ""), ("state", state if state in labels.ACCOUNT_STATES else ""),
                ("q", q), ("page", page if page.isascii() and page.isdigit() and int(page) > 1 else ""))
        return cls(params=tuple((k, v) for k, v in kept if v))

    @property
    def query(self) -> str:
        """`?role=…&state=…` for an action's link from the list ("" when the list was unfiltered)."""
        return ("?" + urlencode(self.params)) if self.params else ""

    def url(self) -> str:
        """The list's address as it was (its 返回用户列表 link)."""
        return PATH + self.query

    def redirect(self, done: str) -> Any:
        """After the action: 303 to the list as it was, with the action's message."""
        return see_other(PATH, **dict(self.params), done=done)
