"""Errors the rules raise; the HTTP and CLI layers turn them into problem details and exit codes.

Each says which HTTP status fits; the problem's title is the status's (`web.labels.ERROR_TITLES`, in Chinese)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str
    row: int | None = None

    def __str__(self) -> str:
        """第 N 行，field：message (the API's detail says the field's label and the message in Chinese: see
        `ValidationFailed.listed`)."""
        where = "，".join(([f"第 {self.row} 行"] if self.row is not None else []) + ([self.field] if self.field else []))
        return f"{where}：{self.message}" if where else self.message


class DomainError(Exception):
    """A rule refused something. Subclasses say which HTTP status fits."""

    status = 422

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass
class ValidationFailed(DomainError):
    """Bad input: every problem found, each naming its field (and row, for files)."""

    errors: list[FieldError] = field(default_factory=list)
    detail: str = ""

    status = 422

    def __post_init__(self) -> None:
        self.listing = not self.detail  # the detail lists the problems (else it was given)
        if self.listing:
            self.detail = self.listed(str)
        Exception.__init__(self, self.detail)

    def listed(self, say: Callable[[FieldError], str]) -> str:
        """The problems as one detail, each said by `say`: the first 20, then how many more there are."""
        detail = "；".join(say(e) for e in self.errors[:20]) or "提交的内容有误"
        if len(self.errors) > 20:
            detail += f"；另有 {len(self.errors) - 20} 处问题"
        return detail

    @classmethod
    def one(cls, field: str, message: str) -> "ValidationFailed":
        return cls([FieldError(field, message)])


class InvalidState(DomainError):
    """The action is not allowed in the subject's current state (HTTP 409)."""

    status = 409


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    status = 403


@dataclass
class TooLarge(ValidationFailed):
    """An uploaded file exceeds a size limit (HTTP 413); the message names the limit and the setting that sets it."""

    status = 413
