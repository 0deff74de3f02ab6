"""The check form shows the photos already uploaded as thumbnails with a Chinese caption, served through the
authenticated evidence route (only to whom may see them); no hash is in the page's text."""

from __future__ import annotations

import hashlib
import re
from html.parser import HTMLParser

from factories import make_case
from pagekit import FACTORY_PASSWORD, officers_of
from test_web_officer import PNG, _form, good_check

from verifier.checks import service as check_service


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def text_of(html: str) -> str:
    """What a person reads: the text between tags (no attribute, no hidden field's value)."""
    parser = _Text()
    parser.feed(html)
    return "".join(parser.parts)


def test_uploaded_photos_come_back_as_captioned_thumbnails_without_hashes_in_the_text(pages, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="scheduled")
    other_id = make_case(ctx, stage="scheduled")
    officer = officers_of(ctx, case_id)[0]
    pages.login(officer, FACTORY_PASSWORD)
    data = good_check(_form(case_id, pages), clock)
    data["stable_income"] = ""  # a mistake: the form comes back with the photo kept
    sha = hashlib.sha256(PNG).hexdigest()
    r = pages.post(f"/cases/{case_id}/check", data, files={"photos": ("door.png", PNG, "image/png")})
    assert r.status_code == 422
    src = f"/cases/{case_id}/evidence/{sha}"
    assert re.search(rf'<img src="{src}" alt="第 1 张照片"', r.text)
    assert f'title="{sha}"' in r.text and f'name="evidence.0" value="{sha}"' in r.text
    shown = text_of(r.text)
    assert "第 1 张" in shown and "上传" in shown
    assert sha not in shown and sha[:16] not in shown
    photo = pages.get(src)
    assert photo.status_code == 200 and photo.content == PNG and photo.headers["content-type"] == "image/png"
    assert photo.headers["cache-control"] == "no-store"
    # A hash of no file of this case (typed into the form by hand) shows nothing; nor does another case's file.
    data.update({"evidence.0": "ab" * 32, "evidence.1": sha})
    r = pages.post(f"/cases/{case_id}/check", data)
    assert r.status_code == 422 and r.text.count("<img ") == 1 and "已上传 1 张" in r.text
    with ctx.db.read() as session:
        assert [e.sha256 for e in check_service.evidence_of(session, case_id, ["ab" * 32, sha, sha])] == [sha]
        assert check_service.evidence_of(session, other_id, [sha]) == []
    # Someone not at this household's door does not get the photo.
    pages.as_("officer-x", "field_officer")
    assert pages.get(src).status_code in (403, 404)
    pages.as_("clerk-x", "town_clerk")
    assert pages.get(src).status_code in (403, 404)


def test_a_photo_sent_with_the_phone_form_keeps_its_capture_time(pages, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    import io

    from PIL import Image
    from sqlalchemy import select

    from verifier.store.tables import Evidence

    case_id = make_case(ctx, stage="scheduled")
    pages.login(officers_of(ctx, case_id)[0], FACTORY_PASSWORD)
    data = good_check(_form(case_id, pages), clock)
    data["stable_income"] = ""  # refused: the photo is stored all the same, and kept in the form
    exif = Image.Exif()
    exif[0x8769] = {0x9003: "2020:05:30 16:05:00", 0x9011: "+08:00"}
    buf = io.BytesIO()
    Image.new("RGB", (16, 12), (20, 140, 60)).save(buf, "JPEG", exif=exif)
    r = pages.post(f"/cases/{case_id}/check", data, files={"photos": ("door.jpg", buf.getvalue(), "image/jpeg")})
    assert r.status_code == 422
    with ctx.db.read() as session:
        assert session.scalars(select(Evidence.captured_at).where(Evidence.case_id == case_id)).all() == [
            "2020-05-30T16:05:00+08:00"]


def test_the_case_page_names_a_photo_by_its_kind_in_chinese(pages, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    """The case's 佐证材料 list names each file as a person would ("PNG 照片，不足 1 KB"), not by its MIME type."""
    case_id = make_case(ctx, stage="scheduled")
    pages.login(officers_of(ctx, case_id)[0], FACTORY_PASSWORD)
    r = pages.post(f"/cases/{case_id}/check", good_check(_form(case_id, pages), clock),
                   files={"photos": ("door.png", PNG, "image/png")})
    assert r.status_code == 303, r.text
    pages.as_("sup-x", "insurer_supervisor")
    shown = text_of(pages.get(f"/cases/{case_id}").text)
    assert "PNG 照片，不足 1 KB" in shown and "image/png" not in shown
    # one who may not open them reads how many there are and who may, not a bare hash under the heading
    pages.as_("clerk-x", "town_clerk")
    shown = text_of(pages.get(f"/cases/{case_id}").text)
    assert "共 1 份照片或扫描件；只有保险公司主管" in shown and "PNG 照片" not in shown


def test_a_file_size_reads_in_kb_or_mb() -> None:
    from verifier.web.templating import file_size

    assert [file_size(n) for n in (0, 300, 1024, 35_800, 2_500_000)] == ["不足 1 KB", "不足 1 KB", "1 KB", "35 KB",
                                                                        "2.4 MB"]
