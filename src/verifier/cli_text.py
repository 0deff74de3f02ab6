"""How the command line says things to the person at the server: in Chinese, with tables that line up although
Chinese characters take two columns of a terminal."""

from __future__ import annotations

import unicodedata
from typing import Any

import click

from . import cli_click_zh

cli_click_zh.install()  # click's usage errors and help headings in Chinese, before any command declares its options


def width(text: str) -> int:
    """The columns `text` takes in a terminal: wide (Chinese) characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, columns: int, *, right: bool = False) -> str:
    """`text` filled with spaces to `columns` terminal columns (to the left when `right`)."""
    fill = " " * max(0, columns - width(text))
    return fill + text if right else text + fill


def row(cells: list[tuple[str, int]], last: str = "") -> str:
    """One line of a table: each (text, columns) padded, then `last` unpadded."""
    return " ".join(pad(text, columns) for text, columns in cells) + (" " + last if last else "")


def problem(error: Any) -> str:
    """A service's `FieldError` as the command line prints it: the field in Chinese, then the message in Chinese
    (a message no table knows is printed as it is)."""
    from .web import stagelabels

    return stagelabels.field_problem(error)


def message(text: str) -> str:
    """A service's message (a refusal's detail) in Chinese."""
    from .web import stagelabels

    return stagelabels.zh(text)


def roles(codes: Any) -> str:
    """Roles as the operator reads and types them: 核查员(field_officer)、财务(finance)."""
    from .web.labels import ROLE_LABELS

    return "、".join(f"{ROLE_LABELS.get(c, c)}({c})" for c in codes) or "暂无角色"


class Refused(click.ClickException):
    """A command that cannot do its work: `错误：` and the reason, exit 1 (click's own says "Error:")."""

    def show(self, file: Any = None) -> None:
        click.echo(f"错误：{self.format_message()}", err=True, file=file)
