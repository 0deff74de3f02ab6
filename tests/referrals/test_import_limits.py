"""Uploaded files parsed into rows: checked whole, against size limits, before the write lock is taken.

Reproduced before: a 249 KB xlsx whose shared strings unpack to 6 million entries held the write lock for 80 s, and a
clerk's screening sent meanwhile failed after 61 s; an 80 MB csv held it for 24 s.
"""

from __future__ import annotations

import csv
import io
import threading
import zipfile
from dataclasses import replace

import openpyxl
from openpyxl.reader.excel import ExcelReader
import pytest
from factories import make_case, new_id_number, staff
from sqlalchemy import func, select

from verifier.audit.models import AuditEntry
from verifier.cases import service as case_service
from verifier.domain.errors import TooLarge
from verifier.payments.bankfiles import parse_return
from verifier.referrals import service
from verifier.settings import ImportLimits
from verifier.store.tables import Case, Referral, ReferralImport

HEADER = ["id_number", "name", "town", "village", "household_group", "cause", "amount", "referred_on"]


def good_row() -> list[str]:
    return [new_id_number(), "张三", "城关镇", "东村", "low_income", "illness", "30000.00", "2020-05-01"]


def csv_bytes(rows: list[list[str]], header: list[str] = HEADER) -> bytes:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(header)
    w.writerows(rows)
    return out.getvalue().encode("utf-8")


def shared_strings_bomb(entries: int) -> bytes:
    """A valid-looking xlsx whose table of shared strings holds `entries` entries: tiny packed, huge unpacked."""
    wb = openpyxl.Workbook()
    wb.active.append(["身份证号", "姓名", "乡镇", "村", "户类型", "原因", "金额"])
    plain = io.BytesIO()
    wb.save(plain)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(plain.getvalue())) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "[Content_Types].xml":  # declare the table, as Excel does
                data = data.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                                    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
            dst.writestr(info, data)
        with dst.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
            part.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="http://schemas.'
                       b'openxmlformats.org/spreadsheetml/2006/main">')
            block = b"<si><t>x</t></si>" * 100_000
            for _ in range(entries // 100_000):
                part.write(block)
            part.write(b"<si><t>x</t></si>" * (entries % 100_000))
            part.write(b"</sst>")
    return out.getvalue()


def counts(ctx) -> tuple[int, ...]:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return tuple(session.scalar(select(func.count()).select_from(t))
                     for t in (Case, Referral, ReferralImport, AuditEntry))


def post_file(client, users, name: str, data: bytes):  # type: ignore[no-untyped-def]
    return client.post("/api/referrals/imports", files={"file": (name, data, "application/octet-stream")},
                       data={"channel": "civil_affairs", "county_code": "340223"}, headers=users.headers("sup"))


def limit_named(response, setting: str) -> bool:  # type: ignore[no-untyped-def]
    return any(setting in e["message"] and "上限" in e["message"] for e in response.json()["errors"])


def test_a_shared_strings_bomb_is_refused_before_it_is_unpacked(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("sup", "insurer_supervisor")
    bomb = shared_strings_bomb(6_000_000)
    assert len(bomb) < 400_000  # a few hundred KB that unpack to 6 million entries (100 MB of XML)
    # What it does unchecked: every entry in memory, before the first row is read (shown on a table of 20,000,
    # which openpyxl holds whole as it would 6 million).
    reader = ExcelReader(io.BytesIO(shared_strings_bomb(20_000)), read_only=True)
    reader.read()
    assert len(reader.shared_strings) == 20_000
    before = counts(ctx)
    r = post_file(client, users, "bomb.xlsx", bomb)  # counted while streaming, never loaded
    assert r.status_code == 413, r.text
    assert limit_named(r, "VERIFIER_MAX_XLSX_SHARED_STRINGS")
    assert counts(ctx) == before


def test_an_xlsx_unpacking_past_the_limit_is_refused_by_its_declared_sizes(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("sup", "insurer_supervisor")
    ctx.settings = replace(ctx.settings, imports=ImportLimits(max_xlsx_bytes=4 * 1024 * 1024))
    before = counts(ctx)
    r = post_file(client, users, "bomb.xlsx", shared_strings_bomb(400_000))  # about 7 MB unpacked
    assert r.status_code == 413 and limit_named(r, "VERIFIER_MAX_XLSX_UNPACKED_BYTES"), r.text
    assert counts(ctx) == before


def test_an_xlsx_declaring_xml_entities_is_refused(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("sup", "insurer_supervisor")
    wb = openpyxl.Workbook()
    wb.active.append(["身份证号"])
    plain = io.BytesIO()
    wb.save(plain)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(plain.getvalue())) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = b'<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]>' + data
            dst.writestr(info, data)
    r = post_file(client, users, "entities.xlsx", out.getvalue())
    assert r.status_code == 422 and "工作簿含有 XML 实体声明" in r.text


def test_an_oversized_csv_is_refused_naming_the_limit_and_nothing_is_stored(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("sup", "insurer_supervisor")
    ctx.settings = replace(ctx.settings, imports=ImportLimits(max_bytes=64 * 1024))
    data = csv_bytes([good_row() for _ in range(1000)])  # about 80 KB
    assert len(data) > 64 * 1024
    before = counts(ctx)
    r = post_file(client, users, "big.csv", data)
    assert r.status_code == 413 and limit_named(r, "VERIFIER_MAX_IMPORT_BYTES"), r.text
    assert counts(ctx) == before


def test_too_many_rows_or_cells_are_refused(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("sup", "insurer_supervisor")
    ctx.settings = replace(ctx.settings, imports=ImportLimits(max_rows=50, max_cells=5000))
    before = counts(ctx)
    r = post_file(client, users, "rows.csv", csv_bytes([good_row() for _ in range(51)]))
    assert r.status_code == 413 and limit_named(r, "VERIFIER_MAX_IMPORT_ROWS"), r.text
    assert post_file(client, users, "rows.csv", csv_bytes([good_row() for _ in range(50)])).status_code == 201
    wide = csv_bytes([good_row() + [""] * 6000], header=HEADER + [f"x{i}" for i in range(6000)])
    r = post_file(client, users, "wide.csv", wide)
    assert r.status_code == 413 and limit_named(r, "VERIFIER_MAX_IMPORT_CELLS"), r.text
    assert counts(ctx)[0] == before[0] + 50


def test_limits_come_from_the_environment() -> None:
    limits = ImportLimits.from_env({"VERIFIER_MAX_IMPORT_BYTES": "1000", "VERIFIER_MAX_IMPORT_ROWS": "7",
                                    "VERIFIER_MAX_IMPORT_CELLS": "70", "VERIFIER_MAX_XLSX_UNPACKED_BYTES": "9000",
                                    "VERIFIER_MAX_XLSX_SHARED_STRINGS": "5"})
    assert limits == ImportLimits(max_bytes=1000, max_rows=7, max_cells=70, max_xlsx_bytes=9000, max_shared_strings=5)
    assert ImportLimits.from_env({}) == ImportLimits()
    with pytest.raises(ValueError):
        ImportLimits.from_env({"VERIFIER_MAX_IMPORT_ROWS": "0"})


def test_a_malformed_file_still_lists_every_bad_row(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("sup", "insurer_supervisor")
    rows = [good_row() for _ in range(2500)]
    rows[10][6] = "-5"
    rows[1200][5] = "因祸"
    rows[2400][7] = "2019-05-01"  # no contract covers it: found while checking, before anything is written
    before = counts(ctx)
    r = post_file(client, users, "bad.csv", csv_bytes(rows))
    assert r.status_code == 422, r.text
    assert [(e["row"], e["field"]) for e in r.json()["errors"]] == [(12, "amount"), (1202, "cause"),
                                                                     (2402, "referred_on")]
    assert counts(ctx) == before


def test_another_write_does_not_wait_while_a_large_import_is_parsed(ctx) -> None:  # type: ignore[no-untyped-def]
    s = staff(ctx)
    case_id = make_case(ctx, stage="received")
    data = csv_bytes([good_row() for _ in range(6000)])  # three chunks: progress is reported after each
    parsing, screened = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def progress(_stream: object) -> None:
        if not parsing.is_set():
            parsing.set()
            # The import stays mid-parse until the screening is done. Were the write lock held while parsing, the
            # screening could not finish first: this wait would run out instead.
            outcome["screened_meanwhile"] = screened.wait(60)

    def run_import() -> None:
        try:
            outcome["result"] = service.import_referral_file(
                ctx.db, vault=ctx.vault, source=io.BytesIO(data), filename="big.csv", channel="civil_affairs",
                county_code="340223", principal=s.supervisor, role="insurer_supervisor", clock=ctx.clock,
                limits=ImportLimits(), progress=progress)
        except Exception as exc:  # pragma: no cover - reported by the assertion below
            outcome["error"] = exc

    worker = threading.Thread(target=run_import)
    worker.start()
    try:
        assert parsing.wait(60), "the import never started parsing"
        with ctx.db.begin() as session:
            case_service.screen(session, case_id, decision="pass", reason="", principal=s.clerk, clock=ctx.clock)
    finally:
        screened.set()
        worker.join(120)
    assert outcome.get("screened_meanwhile") is True, "the screening waited for the import to finish"
    assert "error" not in outcome, outcome.get("error")
    assert outcome["result"].rows == 6000  # type: ignore[attr-defined]


def test_the_command_line_import_checks_limits_before_writing(ctx, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from verifier.cli import main

    staff(ctx)
    path = tmp_path / "rows.csv"
    path.write_bytes(csv_bytes([good_row() for _ in range(11)]))
    monkeypatch.setenv("VERIFIER_HOME", str(ctx.settings.home))
    monkeypatch.setenv("VERIFIER_DATABASE_URL", ctx.settings.database_url)
    monkeypatch.setenv("VERIFIER_MAX_IMPORT_ROWS", "10")
    before = counts(ctx)
    result = CliRunner().invoke(main, ["import", str(path), "--channel", "civil_affairs", "--county", "340223"])
    assert result.exit_code == 1 and "VERIFIER_MAX_IMPORT_ROWS" in result.output, result.output
    assert counts(ctx) == before


def test_a_bank_return_over_the_limits_is_refused(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    header = "reference,status,bank_reference,reason\n"
    lines = "".join(f"R{i},success,B{i},\n" for i in range(30))
    with pytest.raises(TooLarge) as info:
        parse_return((header + lines).encode(), ImportLimits(max_rows=20))
    assert "VERIFIER_MAX_IMPORT_ROWS" in str(info.value)
    with pytest.raises(TooLarge):
        parse_return((header + lines).encode(), ImportLimits(max_cells=50))
    assert len(parse_return((header + lines).encode(), ImportLimits())) == 30  # within the limits: read as before
    users.add("fin", "finance")
    ctx.settings = replace(ctx.settings, imports=ImportLimits(max_bytes=1024))
    r = client.post("/api/payment-batches/pb_nope/bank-return", headers=users.headers("fin"),
                    files={"file": ("r.csv", (header + lines * 3).encode(), "text/csv")})
    assert r.status_code == 413 and limit_named(r, "VERIFIER_MAX_IMPORT_BYTES"), r.text
