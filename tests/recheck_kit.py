"""The county's visit behind a re-check result, as tests record it: a photo taken at the household on the visit day
and the re-check record signed by the household member met, uploaded for that re-check (each file its own bytes:
a file serves one re-check only)."""

from __future__ import annotations

import io
import itertools
from datetime import date
from typing import Any

from PIL import Image
from sqlalchemy import select

from verifier.accounts.auth import Principal
from verifier.sampling import service as sampling_service
from verifier.sampling import visits
from verifier.store.tables import Case, Member

_serial = itertools.count(1)


def dated_photo(taken: str | None, offset: str | None = None) -> bytes:
    """A small JPEG whose EXIF says it was taken at `taken` ("YYYY:MM:DD HH:MM:SS"; None: no time), unique bytes."""
    n = next(_serial)
    exif = Image.Exif()
    exif[0x010E] = f"recheck photo {n}"  # ImageDescription: makes every photo its own file
    if taken is not None:
        exif[0x8769] = {0x9003: taken, **({0x9011: offset} if offset else {})}
    buf = io.BytesIO()
    Image.new("RGB", (16, 12), (n * 37 % 256, 120, 60)).save(buf, "JPEG", exif=exif)
    return buf.getvalue()


def signed_form() -> bytes:
    """A scan of a re-check record signed by the household member met (a PDF; unique bytes)."""
    return f"%PDF-1.4\n% re-check record {next(_serial)}, signed\n%%EOF\n".encode()


def member_met(ctx: Any, case_id: str) -> str:
    """A member of the case's household by name (the head when known)."""
    with ctx.db.read() as session:
        case = session.get(Case, case_id)
        assert case is not None
        names = session.execute(select(Member.name, Member.relation).where(
            Member.household_id == case.household_id)).all()
    return next((n for n, rel in names if rel == "head"), names[0][0])


def upload(client: Any, headers: dict[str, str], round_id: str, case_id: str, content: bytes,
           content_type: str = "image/jpeg", status: int = 201) -> dict[str, Any]:
    r = client.post(f"/api/sampling-rounds/{round_id}/results/{case_id}/evidence", headers=headers,
                    files={"file": ("f", content, content_type)})
    assert r.status_code == status, r.text
    return dict(r.json())


def visit_api(ctx: Any, client: Any, headers: dict[str, str], round_id: str, case_id: str,
              day: date | None = None) -> dict[str, Any]:
    """The visit fields of a result, its files uploaded over HTTP: a photo taken on `day` (default today) at 09:30
    and the signed record."""
    day = day or ctx.clock.today()
    photo = upload(client, headers, round_id, case_id, dated_photo(f"{day:%Y:%m:%d} 09:30:00"))["sha256"]
    form = upload(client, headers, round_id, case_id, signed_form(), "application/pdf")["sha256"]
    return {"visited_on": day.isoformat(), "met_member": member_met(ctx, case_id), "signed_form": form,
            "evidence": [photo]}


def visit_service(ctx: Any, principal: Principal, round_id: str, case_id: str,
                  day: date | None = None) -> visits.VisitInput:
    """The same through the service (for tests that record results without HTTP)."""
    day = day or ctx.clock.today()
    with ctx.db.begin() as session:
        rnd = sampling_service.load_round(session, round_id, principal, for_update=True)
        kw = dict(evidence_dir=ctx.settings.evidence_dir, vault=ctx.vault, max_bytes=ctx.settings.max_upload_bytes,
                  principal=principal, clock=ctx.clock)
        photo = visits.store(session, rnd, case_id, data=dated_photo(f"{day:%Y:%m:%d} 09:30:00"),
                             declared_type="image/jpeg", **kw).sha256
        form = visits.store(session, rnd, case_id, data=signed_form(), declared_type="application/pdf", **kw).sha256
    return visits.VisitInput(visited_on=day, met_member=member_met(ctx, case_id), signed_form=form,
                             evidence=(photo,))
