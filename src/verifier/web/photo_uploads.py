"""The photos an officer's phone form sends (the check's and the visit without a check's): each stored as the
case's evidence through the check stage's service, in the order chosen, after those the form kept from a refused
send (hidden `evidence.N` fields)."""

from __future__ import annotations

import re
from typing import Any

from litestar.datastructures import UploadFile

from ..accounts.auth import Principal
from ..checks import service as check_service
from ..domain.errors import ValidationFailed
from . import labels


def kept_photos(values: dict[str, str]) -> list[str]:
    """The photos a refused send kept (`evidence.N` = a SHA-256), in their order."""
    return [h for _, h in sorted((int(k.split(".", 1)[1]), h) for k, h in values.items()
                                 if re.fullmatch(r"evidence\.\d{1,3}", k) and re.fullmatch(r"[0-9a-f]{64}", h))]


def store_photos(ctx: Any, case_id: str, uploads: Any, principal: Principal,
                 evidence: list[str]) -> list[str]:
    """Stores each file of the form's `photos` (an empty file input aside) as the case's evidence and adds its hash to
    `evidence` (once); returns what was refused, in Chinese, each naming its file (照片“…”：…)."""
    refused: list[str] = []
    for upload in uploads if isinstance(uploads, list) else [uploads]:
        if not isinstance(upload, UploadFile):
            continue
        content = upload.file.read(ctx.settings.max_upload_bytes + 1)
        if not content:
            continue  # the file input was left empty
        try:
            with ctx.db.begin() as session:
                sha = check_service.store_evidence(
                    session, case_id, data=content, declared_type=upload.content_type,
                    evidence_dir=ctx.settings.evidence_dir, vault=ctx.vault,
                    max_bytes=ctx.settings.max_upload_bytes, principal=principal, clock=ctx.clock).sha256
        except ValidationFailed as exc:
            refused += [f"照片“{upload.filename}”：{labels.message_zh(e.message)}" for e in exc.errors]
            continue
        if sha not in evidence:
            evidence.append(sha)
    return refused
