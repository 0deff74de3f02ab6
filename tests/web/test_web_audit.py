"""The audit page: the signed checkpoint, its key, and an entry with its inclusion proof, checked on the spot."""

from __future__ import annotations

import re

from factories import make_case


def test_the_auditor_sees_the_checkpoint_and_proves_an_entry(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    make_case(ctx, stage="determined")
    pages.as_("aud1", "auditor", counties=())
    text = pages.get("/audit").text
    assert "最新签名检查点" in text and "签名有效" in text
    checkpoint = re.search(r'<pre id="checkpoint">(.*?)</pre>', text, re.DOTALL).group(1)
    lines = checkpoint.splitlines()
    size = int(lines[1])
    assert lines[0] == ctx.settings.log_name and size > 5 and "— " in checkpoint
    key = re.search(r'<pre id="public-key">(.*?)</pre>', text, re.DOTALL).group(1)
    assert key.startswith(ctx.settings.log_name + "+")

    text = pages.get(f"/audit?index={size - 1}").text
    assert "包含证明有效" in text and f"第 {size - 1} 条" in text and "&#34;action&#34;: &#34;user.add&#34;" in text
    r = pages.get("/audit?index=0", headers={"HX-Request": "true"})
    assert r.status_code == 200 and 'id="entry"' in r.text and "包含证明有效" in r.text
    assert "没有序号为 99999 的记录" in pages.get("/audit?index=99999").text
    assert "请输入记录序号" in pages.get("/audit?index=abc").text


def test_the_county_reviewer_may_read_it_the_officer_may_not(pages) -> None:  # type: ignore[no-untyped-def]
    assert pages.as_("rev1", "county_reviewer").get("/audit").status_code == 200
    assert pages.as_("off1", "field_officer").get("/audit").status_code == 403


def test_a_strange_entry_number_is_a_message_not_an_error(pages, users) -> None:  # type: ignore[no-untyped-def]
    users.add("aud-x", "auditor")
    pages.login("aud-x")
    for bad in ("²", "-1", "9" * 30, "9" * 5000):
        r = pages.client.get("/audit", params={"index": bad})
        assert r.status_code in (200, 400), (bad[:10], r.status_code)
        if r.status_code == 200:
            assert "请输入记录序号" in r.text


def test_another_countys_auditor_finds_none_of_the_countys_entries(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from verifier.audit.models import AuditEntry

    case_id = make_case(ctx, stage="determined")
    with ctx.db.read() as session:
        index = session.scalar(select(AuditEntry.idx).where(AuditEntry.subject == case_id).limit(1))
        nowhere = session.scalar(select(AuditEntry.idx).where(AuditEntry.action == "user.add").limit(1))
    pages.as_("aud-there", "auditor", counties=("340224",))
    text = pages.get(f"/audit?index={index}").text
    assert f"没有序号为 {index} 的记录" in text and "包含证明有效" not in text
    pages.as_("aud-here", "auditor", counties=("340223",))
    assert "包含证明有效" in pages.get(f"/audit?index={index}").text
    # User management concerns no county: only readers without a county limit see it.
    assert f"没有序号为 {nowhere} 的记录" in pages.get(f"/audit?index={nowhere}").text
    pages.as_("aud-all", "auditor", counties=())
    assert "包含证明有效" in pages.get(f"/audit?index={nowhere}").text
