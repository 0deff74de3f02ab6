"""Printing in Chromium: a determined case's approval form (核查审批表) printed to PDF (Chromium's print to PDF)
holds the household's name, with no navigation, on A4; and a list prints without its navigation and forms."""

from __future__ import annotations

import re
import shutil
import subprocess

from browserkit import log_in_at

DESK = {"width": 1280, "height": 900}
A4_POINTS = (595, 842)  # 210 × 297 mm


def test_the_approval_form_prints_to_a_pdf_holding_the_households_name(server, browser, tmp_path) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=DESK, locale="zh-CN")
    context.set_default_timeout(10_000)
    page = context.new_page()
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    log_in_at(page, server, "supervisor", "/cases?status=determined")
    page.click("#results tbody a[href^='/cases/case_']")
    page.wait_for_url(re.compile(r".*/cases/case_\w+$"))
    page.click("#approval-form-link")
    page.wait_for_url(re.compile(r".*/cases/case_\w+/approval-form$"))
    head = page.locator("#head-name").inner_text().strip()
    assert head and page.locator("#relief-amount").inner_text().strip()

    # As printed: the toolbar and its buttons are gone, the signature boxes are there.
    page.emulate_media(media="print")
    assert not page.locator(".print-toolbar").is_visible()
    assert page.locator("#signatures .signature").count() == 5
    assert page.locator("#members").is_visible() and page.locator("#relief").is_visible()

    pdf = page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF-") and len(pdf) > 5_000
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert boxes and all(abs(float(w) - A4_POINTS[0]) < 2 and abs(float(h) - A4_POINTS[1]) < 2 for w, h in boxes)
    if shutil.which("pdftotext"):
        path = tmp_path / "approval-form.pdf"
        path.write_bytes(pdf)
        text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True,
                              timeout=60).stdout.decode("utf-8")
        squeezed = re.sub(r"\s+", "", text)
        assert head in squeezed, text[:500]
        assert "核查审批表" in squeezed and "县级审核意见" in squeezed
        assert "首页" not in squeezed and "退出" not in squeezed  # no navigation, no logout button
    assert blocked == []

    # A list as printed: no navigation, no filter form, the table full width.
    page.emulate_media(media="screen")
    page.goto(server + "/cases")
    page.emulate_media(media="print")
    assert not page.locator("nav.main").is_visible() and not page.locator("form.filters").is_visible()
    table = page.locator("#results table").bounding_box()
    body = page.locator("body").bounding_box()
    assert table and body and table["width"] >= body["width"] * 0.95
    context.close()
