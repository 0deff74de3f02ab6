"""A photo taken at the household's door on the day of a visit that produced no check (nobody home, refused, moved
away): such a visit is recorded with one (`checks.attempts`). Over the API the photo is uploaded as the case's
evidence first and named by its hash; the officer's page takes it with the form."""

from __future__ import annotations

from datetime import date
from typing import Any

from recheck_kit import dated_photo


def door_photo(day: date | str) -> bytes:
    """A JPEG whose camera time is on `day` (a date or "YYYY-MM-DD"), its own bytes."""
    day = date.fromisoformat(day) if isinstance(day, str) else day
    return dated_photo(f"{day:%Y:%m:%d} 10:15:00")


def upload_door_photo(client: Any, headers: dict[str, str], case_id: str, day: date | str,
                      content: bytes | None = None) -> str:
    """The door's photo uploaded for the case by one of its officers: its SHA-256, for the attempt's `evidence`."""
    r = client.post(f"/api/cases/{case_id}/evidence", headers=headers,
                    files={"file": ("door.jpg", content or door_photo(day), "image/jpeg")})
    assert r.status_code == 201, r.text
    return str(r.json()["sha256"])


def door_files(day: date | str) -> list[tuple[str, tuple[str, bytes, str]]]:
    """The officer's page's photo field with the door's photo (`Pages.post(..., files=)`)."""
    return [("photos", ("door.jpg", door_photo(day), "image/jpeg"))]


def stored_door_photo(ctx: Any, session: Any, case_id: str, principal: Any, day: date | str) -> str:
    """The door's photo stored for the case by `principal` (one of its officers) in `session`, as the upload does:
    its SHA-256, for `checks.attempts.AttemptInput.evidence`."""
    from verifier.checks import service as check_service

    return check_service.store_evidence(
        session, case_id, data=door_photo(day), declared_type="image/jpeg", evidence_dir=ctx.settings.evidence_dir,
        max_bytes=ctx.settings.max_upload_bytes, principal=principal, clock=ctx.clock, vault=ctx.vault).sha256
