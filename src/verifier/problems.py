"""The API's problem details (RFC 9457): `status`, a Chinese `title` by status from the one table of error titles
(`web.labels.ERROR_TITLES`), `detail`, and for bad fields `errors`. Every problem the application answers is made
here, so no title is written anywhere else."""

from __future__ import annotations

from typing import Any

from litestar.plugins.problem_details import ProblemDetailsException


def problem(status: int, detail: str, *, extra: dict[str, Any] | None = None,
            headers: dict[str, str] | None = None) -> ProblemDetailsException:
    from .web.labels import error_title

    return ProblemDetailsException(status_code=status, title=error_title(status), detail=detail, extra=extra,
                                   headers=headers)


def problem_body(status: int, detail: str) -> dict[str, Any]:
    """A problem's JSON as `problem` answers it (status, title, detail), for an answer sent before Litestar."""
    from .web.labels import error_title

    return {"status": status, "title": error_title(status), "detail": detail}
