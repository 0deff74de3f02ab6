"""The officer's check form on a phone in Chromium: a photo sent with a form that came back for a mistake is shown
as a thumbnail (loaded through the authenticated evidence route) with a Chinese caption, and no hash in the text; a
big camera photo shrunk on the phone keeps its capture time and is stored upright."""

from __future__ import annotations

import hashlib
import io
import os
import struct
from datetime import date

import pytest
from browserkit import SERVER_HOMES
from desk import Desk
from PIL import Image
from test_browser_officer import tiny_png

from verifier.checks import evidence_files
from verifier.domain.idnumber import make_id_number
from verifier.store.vault import Vault

ORIENTATION, EXIF_IFD, TAKEN, TAKEN_OFFSET = 0x0112, 0x8769, 0x9003, 0x9011


def test_a_photo_already_sent_comes_back_as_a_captioned_thumbnail(server, browser) -> None:  # type: ignore[no-untyped-def]
    desk = Desk.login_as(browser, server, "officer3", phone=True, start="/visits")
    desk.follow(".visit .go a")
    page = desk.page
    png = tiny_png(64, 48)
    page.select_option("#f-members-0-labour", "partial")
    page.fill("#f-members-1-name", "张桂兰")
    page.fill("#f-members-1-id_number", "340223199001011235")  # the right shape, a wrong check digit
    page.select_option("#f-members-1-relation", "spouse")
    page.select_option("#f-members-1-labour", "none")
    page.fill("#f-income-wages", "3000")
    page.check("input[name=stable_income][value=no]")
    page.set_input_files("#f-photos", files=[{"name": "door.png", "mimeType": "image/png", "buffer": png}])
    with desk.refusal(422):
        with page.expect_navigation():
            page.click("text=提交核查结果")
        desk.checked()
    thumb = page.locator(".thumbs img").first
    thumb.scroll_into_view_if_needed()  # a lazy image loads once it is in view
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle())
    assert page.evaluate("img => img.naturalWidth", thumb.element_handle()) == 64
    caption = page.inner_text(".thumbs figcaption")
    assert caption.startswith("第 1 张") and "上传" in caption
    sha = hashlib.sha256(png).hexdigest()
    assert sha[:12] not in page.inner_text("main")  # in a title and a hidden field only
    assert page.get_attribute(".thumbs a", "title") == sha
    # Fixed and sent again: the photo is not chosen a second time, and the check is recorded with it.
    page.fill("#f-members-1-id_number", make_id_number("340223", date(1962, 3, 4), 17))
    with page.expect_navigation():
        page.click("text=提交核查结果")
    page.wait_for_url("**/cases/*?done=check")
    desk.checked()
    assert "入户核查已提交" in page.inner_text(".flash.ok")
    desk.close()



def exif_segment(order: bytes, taken: str, offset: str) -> bytes:
    """An APP1 Exif segment in either byte order (b"II" little-endian, b"MM" big-endian): IFD0 holds Orientation 6
    (the camera was turned: the stored picture is drawn rotated 90° clockwise) and the Exif IFD's address, which holds
    DateTimeOriginal and OffsetTimeOriginal."""
    e = "<" if order == b"II" else ">"
    taken_b, offset_b = taken.encode() + b"\0", offset.encode() + b"\0"
    exif_ifd = 8 + 30
    values = exif_ifd + 30
    tiff = (order + struct.pack(e + "HI", 42, 8)
            + struct.pack(e + "H", 2) + struct.pack(e + "HHIHH", ORIENTATION, 3, 1, 6, 0)
            + struct.pack(e + "HHII", EXIF_IFD, 4, 1, exif_ifd) + struct.pack(e + "I", 0)
            + struct.pack(e + "H", 2) + struct.pack(e + "HHII", TAKEN, 2, len(taken_b), values)
            + struct.pack(e + "HHII", TAKEN_OFFSET, 2, len(offset_b), values + len(taken_b)) + struct.pack(e + "I", 0)
            + taken_b + offset_b)
    body = b"Exif\0\0" + tiff
    return b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body


def camera_jpeg(order: bytes, width: int = 3000, height: int = 2250) -> bytes:
    """A big phone photo (blotchy colours, so the JPEG stays large) taken at a known time, held sideways."""
    blotches = Image.frombytes("RGB", (width // 10, height // 10), os.urandom(width // 10 * height // 10 * 3))
    out = io.BytesIO()
    blotches.resize((width, height), Image.Resampling.BICUBIC).save(out, "JPEG", quality=92)
    jpeg = out.getvalue()
    assert jpeg[2:4] == b"\xff\xe0"  # SOI, then the JFIF APP0: the camera's Exif goes after it
    at = 4 + struct.unpack(">H", jpeg[4:6])[0]
    return jpeg[:at] + exif_segment(order, "2026:12:03 10:15:00", "+08:00") + jpeg[at:]


@pytest.mark.parametrize(("order", "officer"), [(b"II", "officer3"), (b"MM", "officer1")],
                         ids=["little-endian", "big-endian"])  # each officer's demo visits are few: one each here
def test_a_shrunk_photo_keeps_its_capture_time_and_is_stored_upright(server, browser, order: bytes, officer: str) -> None:  # type: ignore[no-untyped-def]
    original = camera_jpeg(order)
    assert len(original) > 1024 * 1024
    camera = Image.open(io.BytesIO(original)).getexif()
    assert camera[ORIENTATION] == 6 and camera.get_ifd(EXIF_IFD)[TAKEN] == "2026:12:03 10:15:00"
    evidence_dir = SERVER_HOMES[server] / "evidence"
    before = {p.name for p in evidence_dir.rglob("*") if p.is_file()} if evidence_dir.exists() else set()
    desk = Desk.login_as(browser, server, officer, phone=True, start="/visits")
    desk.follow(".visit .go a")
    page = desk.page
    page.select_option("#f-members-0-labour", "partial")
    page.fill("#f-income-wages", "3000")
    page.check("input[name=stable_income][value=no]")
    page.set_input_files("#f-photos", files=[{"name": "IMG_0412.jpg", "mimeType": "image/jpeg", "buffer": original}])
    page.wait_for_function("() => document.getElementById('photo-status').textContent.includes('KB')")
    with page.expect_navigation():
        page.click("text=提交核查结果")
    page.wait_for_url("**/cases/*?done=check")
    desk.checked()
    desk.close()
    added = [p for p in evidence_dir.rglob("*") if p.is_file() and p.name not in before]
    assert len(added) == 1
    stored = evidence_files.read(evidence_dir, Vault.from_dir(SERVER_HOMES[server] / "keys"), added[0].name)
    assert stored is not None and len(stored) < len(original) // 2  # shrunk in the browser
    photo = Image.open(io.BytesIO(stored))
    assert photo.size == (1200, 1600)  # drawn upright (portrait) and no longer than 1600 px
    exif = photo.getexif()
    assert exif.get(ORIENTATION) == 1  # upright already: a viewer must not turn it again
    taken = exif.get_ifd(EXIF_IFD)
    assert taken.get(TAKEN) == "2026:12:03 10:15:00" and taken.get(TAKEN_OFFSET) == "+08:00"
