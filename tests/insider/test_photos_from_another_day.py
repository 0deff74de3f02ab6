"""Photos from another day: a field officer may date a visit back by up to 3 days without a word (or give any reason
for a later entry: a reason is read, not proven). The photos uploaded with the check carry their camera's capture
time (EXIF DateTimeOriginal): read at upload, compared with the visit day and the recording time, and shown to the
supervisor who confirms the determination, on the case page and in the API, and kept in the determination's audit
entry. A warning, not a refusal: a phone's clock can be wrong."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta

from factories import make_case
from insider_kit import COUNTY, check_body, head_on_record, schedule
from PIL import Image
from sqlalchemy import select
from web.pagekit import Pages

from verifier.audit.models import AuditEntry
from verifier.store.tables import Evidence


def exif_jpeg(taken: str | None, offset: str | None = None, colour: tuple[int, int, int] = (90, 120, 60)) -> bytes:
    """A small JPEG whose EXIF says it was taken at `taken` ("YYYY:MM:DD HH:MM:SS"), with `offset` when given."""
    exif = Image.Exif()
    if taken is not None:
        exif[0x8769] = {0x9003: taken, **({0x9011: offset} if offset else {})}  # Exif IFD: DateTimeOriginal, offset
    buf = io.BytesIO()
    Image.new("RGB", (16, 12), colour).save(buf, "JPEG", exif=exif)
    return buf.getvalue()


def _upload(client, headers, case_id: str, photo: bytes) -> str:  # type: ignore[no-untyped-def]
    r = client.post(f"/api/cases/{case_id}/evidence", headers=headers, files={"file": ("p.jpg", photo, "image/jpeg")})
    assert r.status_code == 201, r.text
    return str(r.json()["sha256"])


def _team(ctx, client, users):  # type: ignore[no-untyped-def]
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    users.add("sup2", "insurer_supervisor", counties=(COUNTY,))
    users.add("off1", "field_officer", counties=(COUNTY,))
    users.add("off2", "field_officer", counties=(COUNTY,))
    today = ctx.clock.today()
    case_id = make_case(ctx, stage="screened", referred_on=today - timedelta(days=12))
    officers = [users.ids["off1"], users.ids["off2"]]
    schedule(client, users.headers("sup"), case_id, officers, today.isoformat())
    return case_id, officers, head_on_record(ctx, case_id)


def test_attack_an_officer_dates_a_visit_back_with_photos_from_another_day(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    case_id, officers, head = _team(ctx, client, users)
    off, sup = users.headers("off1"), users.headers("sup")
    today = ctx.clock.today()  # the test clock: 2020-06-01 10:00 in Asia/Shanghai

    # The visit is made today; the officer dates it back two days. The case was due two days ago and its visit was
    # scheduled today, so a reason is asked (tests/insider/test_visit_dated_back.py); one is given, read but not
    # proven. The photos taken at the door say today: one in local time without an offset, one in UTC with its
    # offset, taken after the check is recorded (10:00 in Shanghai).
    at_door = _upload(client, off, case_id, exif_jpeg(f"{today:%Y:%m:%d} 08:30:00"))
    later = _upload(client, off, case_id, exif_jpeg(f"{today:%Y:%m:%d} 02:30:00", "+00:00", colour=(10, 20, 30)))
    with ctx.db.read() as session:
        stored = dict(session.execute(select(Evidence.sha256, Evidence.captured_at)
                                      .where(Evidence.case_id == case_id)).all())
    assert stored == {at_door: f"{today.isoformat()}T08:30:00", later: f"{today.isoformat()}T02:30:00+00:00"}

    dated_back = today - timedelta(days=2)
    body = {**check_body(*head, officers, dated_back.isoformat()), "evidence": [at_door, later]}
    r = client.post(f"/api/cases/{case_id}/check", headers=off, json=body)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "late_entry_reason", r.text
    r = client.post(f"/api/cases/{case_id}/check", headers=off, json={**body, "late_entry_reason": "手机没电了"})
    assert r.status_code == 201, r.text  # taken: the photos are a warning, not a refusal

    # The API's check carries the findings.
    shown = client.get(f"/api/cases/{case_id}", headers=sup).json()["checks"][0]
    found = [(f["kind"], f["sha256"], f["number"], f["taken_on"], f["days_apart"]) for f in shown["photo_findings"]]
    assert found == [("other_day", at_door, 1, today.isoformat(), 2), ("other_day", later, 2, today.isoformat(), 2),
                     ("after_recording", later, 2, today.isoformat(), 2)], shown["photo_findings"]
    assert "比核查日期晚 2 天" in shown["photo_findings"][0]["text"]
    assert shown["photo_findings"][1]["taken_at"].startswith(f"{today.isoformat()}T10:30:00+08:00")

    # The supervisor sees them where the determination is confirmed, and on the case page.
    pages = Pages(client, users)
    pages.login("sup2")
    page = pages.get(f"/cases/{case_id}/determination")
    assert page.status_code == 200, page.text
    assert 'id="photo-times"' in page.text
    assert f"第 1 张照片的拍摄时间是 {today.isoformat()} 08:30" in page.text and "第 2 张照片的拍摄时间" in page.text
    assert at_door[:8] not in page.text  # photos are named by their place, as the case page shows them
    assert "比核查日期晚 2 天" in page.text and "晚于本次核查的录入时间" in page.text
    assert "时钟可能不准" in page.text
    case_page = pages.get(f"/cases/{case_id}")
    assert 'id="photo-times-1"' in case_page.text and "比核查日期晚 2 天" in case_page.text
    for shown_page, block in ((page, 'id="photo-times"'), (case_page, 'id="photo-times-1"')):  # in Chinese only
        warning = shown_page.text.split(block, 1)[1].split("</div>", 1)[0]
        assert re.findall(r"[A-Za-z]{2,}", re.sub(r"<[^>]*>", "", warning)) == [], warning

    # Confirming is not refused, and the audit entry keeps what the supervisor was shown.
    r = client.post(f"/api/cases/{case_id}/determination", headers=users.headers("sup2"), json={"confirm": True})
    assert r.status_code == 200, r.text
    with ctx.db.read() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.subject == case_id,
                                                         AuditEntry.action.like("case.determine%"))).one()
    payload = json.loads(entry.entry)["payload"]
    assert [(f["kind"], f["sha256"], f["days_apart"]) for f in payload["photo_findings"]] == [
        ("other_day", at_door, 2), ("other_day", later, 2), ("after_recording", later, 2)]


def test_photos_taken_on_the_visit_day_raise_nothing(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    case_id, officers, head = _team(ctx, client, users)
    off, sup = users.headers("off1"), users.headers("sup")
    today = ctx.clock.today()
    on_the_day = _upload(client, off, case_id, exif_jpeg(f"{today:%Y:%m:%d} 09:10:00", "+08:00"))
    stripped = _upload(client, off, case_id, exif_jpeg(None, colour=(1, 2, 3)))  # one without a time among them
    body = {**check_body(*head, officers, today.isoformat()), "evidence": [on_the_day, stripped]}
    assert client.post(f"/api/cases/{case_id}/check", headers=off, json=body).status_code == 201
    assert client.get(f"/api/cases/{case_id}", headers=sup).json()["checks"][0]["photo_findings"] == []
    pages = Pages(client, users)
    pages.login("sup2")
    assert 'id="photo-times' not in pages.get(f"/cases/{case_id}/determination").text
    assert 'id="photo-times' not in pages.get(f"/cases/{case_id}").text


def test_photos_without_any_capture_time_are_named(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    case_id, officers, head = _team(ctx, client, users)
    off, sup = users.headers("off1"), users.headers("sup")
    photos = [_upload(client, off, case_id, exif_jpeg(None, colour=(i, 2, 3))) for i in (1, 200)]
    body = {**check_body(*head, officers, ctx.clock.today().isoformat()), "evidence": photos}
    assert client.post(f"/api/cases/{case_id}/check", headers=off, json=body).status_code == 201
    findings = client.get(f"/api/cases/{case_id}", headers=sup).json()["checks"][0]["photo_findings"]
    assert [(f["kind"], f["photos"]) for f in findings] == [("no_capture_time", 2)]
    pages = Pages(client, users)
    pages.login("sup2")
    page = pages.get(f"/cases/{case_id}/determination").text
    assert 'id="photo-times"' in page and "2 张照片都没有拍摄时间" in page
