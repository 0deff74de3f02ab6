"""The county's visit behind a re-check result, as tests record it: a photo taken at the household on the visit day
and the re-check record signed by the household member met, uploaded for that re-check (each file its own bytes:
a file serves one re-check only)."""

from __future__ import annotations

import io
import itertools
from datetime import date, datetime
from typing import Any

from PIL import Image
from sqlalchemy import select

from verifier.accounts.auth import Principal
from verifier.clock import SCHEME_TZ
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


def visit_if_possible(client: Any, headers: dict[str, str], round_id: str, case_id: str) -> dict[str, Any]:
    """The visit fields when its files can be uploaded (a sampled case without a result yet), else none: for tests
    of a refusal that comes before the visit is looked at (a case outside the sample, a second result)."""
    r = client.get(f"/api/sampling-rounds/{round_id}", headers=headers)
    if r.status_code != 200 or r.json()["status"] != "drawn":
        return {}
    item = next((i for i in r.json()["items"] if i["case_id"] == case_id), None)
    if item is None or item["result"] is not None:
        return {}
    return visit_api(None, client, headers, round_id, case_id, day=_drawn_on(r.json()))


def _drawn_on(detail: dict[str, Any]) -> date:
    """The day (Asia/Shanghai) the round of `detail` (its API answer) was drawn."""
    return datetime.fromisoformat(detail["drawn_at"]).astimezone(SCHEME_TZ).date()


def visit_api(ctx: Any, client: Any, headers: dict[str, str], round_id: str, case_id: str,
              day: date | None = None) -> dict[str, Any]:
    """The visit fields of a result, its files uploaded over HTTP: a photo taken on `day` (default: the day the
    round was drawn) at 09:30 and the signed record. `ctx` None: the member met is read over HTTP (the head)."""
    if day is None:
        r = client.get(f"/api/sampling-rounds/{round_id}", headers=headers)
        assert r.status_code == 200, r.text
        day = _drawn_on(r.json())
    photo = upload(client, headers, round_id, case_id, dated_photo(f"{day:%Y:%m:%d} 09:30:00"))["sha256"]
    form = upload(client, headers, round_id, case_id, signed_form(), "application/pdf")["sha256"]
    if ctx is not None:
        name = member_met(ctx, case_id)
    else:
        r = client.get(f"/api/cases/{case_id}", headers=headers)
        assert r.status_code == 200, r.text
        name = r.json()["referrals"][0]["name"]
    return {"visited_on": day.isoformat(), "met_member": name, "signed_form": form, "evidence": [photo]}


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


def page_visit(ctx: Any, case_id: str, day: date | None = None) -> tuple[dict[str, str], list[Any]]:
    """The round page's re-check form's visit fields and files: (fields, files for `Pages.post(..., files=)`)."""
    day = day or ctx.clock.today()
    return ({"visited_on": day.isoformat(), "met_member": member_met(ctx, case_id)},
            [("photos", ("visit.jpg", dated_photo(f"{day:%Y:%m:%d} 09:30:00"), "image/jpeg")),
             ("signed_form_file", ("record.pdf", signed_form(), "application/pdf"))])


def post_recheck(pages: Any, ctx: Any, url: str, data: dict[str, str]) -> Any:
    """Post the round page's re-check form for `data["case_id"]` with its visit (the fields in `data` win)."""
    fields, files = page_visit(ctx, data["case_id"])
    return pages.post(url + "/results", {**fields, **data}, files=files)
