"""Errors the rules raise; the HTTP and CLI layers turn them into problem details and exit codes."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str
    row: int | None = None

    def __str__(self) -> str:
        where = f"row {self.row}, " if self.row is not None else ""
        return f"{where}{self.field}: {self.message}"


class DomainError(Exception):
    """A rule refused something. Subclasses say which HTTP status fits."""

    status = 422
    title = "Unprocessable request"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass
class ValidationFailed(DomainError):
    """Bad input: every problem found, each naming its field (and row, for files)."""

    errors: list[FieldError] = field(default_factory=list)
    detail: str = ""

    status = 422
    title = "Invalid input"

    def __post_init__(self) -> None:
        if not self.detail:
            self.detail = "; ".join(str(e) for e in self.errors[:20]) or "invalid input"
            if len(self.errors) > 20:
                self.detail += f"; and {len(self.errors) - 20} more"
        Exception.__init__(self, self.detail)

    @classmethod
    def one(cls, field: str, message: str) -> "ValidationFailed":
        return cls([FieldError(field, message)])


class InvalidState(DomainError):
    """The action is not allowed in the subject's current state (HTTP 409)."""

    status = 409
    title = "Not allowed in the current state"


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Forbidden(DomainError):
    status = 403
    title = "Not allowed"


@dataclass
class TooLarge(ValidationFailed):
    """An uploaded file exceeds a size limit (HTTP 413); the message names the limit and the setting that sets it."""

    status = 413
    title = "Too large"
