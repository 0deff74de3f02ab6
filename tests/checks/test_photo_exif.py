"""Reading a photo's capture time at upload (checks/photo_exif.py): untrusted bytes never fail an upload."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone

import pytest
from factories import COUNTY, make_case
from PIL import Image
from sqlalchemy import select

from verifier.audit.models import AuditEntry
from verifier.checks.photo_exif import capture_time
from verifier.store.tables import Evidence


def photo(fmt: str = "JPEG", taken: str | None = "2020:06:01 08:30:00", offset: str | None = None,
          size: tuple[int, int] = (16, 12)) -> bytes:
    exif = Image.Exif()
    if taken is not None:
        exif[0x8769] = {0x9003: taken, **({0x9011: offset} if offset else {})}
    buf = io.BytesIO()
    Image.new("RGB", size, (80, 90, 100)).save(buf, fmt, exif=exif)
    return buf.getvalue()


def broken_exif(data: bytes) -> bytes:
    """`data` with its EXIF block's first directory pointing far past its end."""
    i = data.index(b"Exif\x00\x00") + 6
    return data[:i + 4] + b"\x7f\xff\xff\xff" + data[i + 8:]


def test_the_capture_time_is_read_from_jpeg_png_and_webp_headers() -> None:
    assert capture_time(photo(), "image/jpeg") == datetime(2020, 6, 1, 8, 30)
    assert capture_time(photo(offset="+08:00"), "image/jpeg") == datetime(2020, 6, 1, 8, 30,
                                                                           tzinfo=timezone(timedelta(hours=8)))
    assert capture_time(photo("PNG"), "image/png") == datetime(2020, 6, 1, 8, 30)
    assert capture_time(photo("WEBP"), "image/webp") == datetime(2020, 6, 1, 8, 30)
    assert capture_time(photo(taken=None), "image/jpeg") is None
    assert capture_time(photo(), "application/pdf") is None  # only the photo types are opened
    assert capture_time(photo("PNG"), "image/jpeg") is None  # opened only as the type its content was sniffed as


@pytest.mark.parametrize("bad", [
    lambda: broken_exif(photo()),
    lambda: photo()[:200],  # cut short inside its EXIF block
    lambda: b"\xff\xd8\xff\xe1\x00\x10Exif\x00\x00MM\x00\x2a" + b"\x00" * 40,  # no image after the EXIF block
    lambda: b"\xff\xd8\xff" + bytes(range(256)) * 8,
    lambda: photo(taken="0000:00:00 00:00:00"),
    lambda: photo(taken="yesterday morning"),
], ids=["directory-out-of-range", "truncated", "no-image", "noise", "zero-time", "not-a-time"])
def test_malformed_exif_gives_no_time(bad) -> None:  # type: ignore[no-untyped-def]
    assert capture_time(bad(), "image/jpeg") is None


def test_a_decompression_bomb_is_not_read() -> None:
    data = bytearray(photo())
    sof = data.index(b"\xff\xc0")  # baseline frame header: length (2), precision (1), height (2), width (2)
    data[sof + 5:sof + 9] = b"\xff\xff\xff\xff"  # 65535 x 65535 pixels declared
    assert capture_time(bytes(data), "image/jpeg") is None
    data[sof + 5:sof + 9] = b"\x27\x10\x27\x10"  # 10000 x 10000: past Pillow's limit, below twice it
    assert capture_time(bytes(data), "image/jpeg") is None
    data[sof + 5:sof + 9] = b"\x0f\xa0\x0b\xb8"  # 4000 x 3000, a phone's photo: read
    assert capture_time(bytes(data), "image/jpeg") == datetime(2020, 6, 1, 8, 30)


def test_a_photo_with_a_malformed_exif_block_uploads_with_no_capture_time(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    users.add("off1", "field_officer", counties=(COUNTY,))
    users.add("off2", "field_officer", counties=(COUNTY,))
    case_id = make_case(ctx, stage="screened")
    r = client.post(f"/api/cases/{case_id}/schedule", headers=users.headers("sup"),
                    json={"officers": [users.ids["off1"], users.ids["off2"]],
                          "visit_on": ctx.clock.today().isoformat(), "vehicle": "车01"})
    assert r.status_code == 200, r.text
    off = users.headers("off1")
    sent = {"broken": broken_exif(photo()), "good": photo(offset="+08:00"),
            "pdf": b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"}
    hashes = {}
    for name, data in sent.items():
        kind = "application/pdf" if name == "pdf" else "image/jpeg"
        r = client.post(f"/api/cases/{case_id}/evidence", headers=off, files={"file": (name, data, kind)})
        assert r.status_code == 201, r.text
        assert set(r.json()) == {"sha256", "size", "content_type"}  # the answer keeps its shape
        hashes[name] = r.json()["sha256"]
    with ctx.db.read() as session:
        stored = dict(session.execute(select(Evidence.sha256, Evidence.captured_at)).all())
        uploads = [json.loads(e.entry)["payload"] for e in session.scalars(
            select(AuditEntry).where(AuditEntry.action == "evidence.upload").order_by(AuditEntry.idx))]
    assert stored == {hashes["broken"]: "", hashes["good"]: "2020-06-01T08:30:00+08:00", hashes["pdf"]: None}
    assert [u.get("captured_at") for u in uploads] == [None, "2020-06-01T08:30:00+08:00", None]
