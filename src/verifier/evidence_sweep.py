"""Evidence files that no row names, removed once they are old: `verifier evidence sweep`.

A sealed file can stay on disk with no row: a refused village meeting form's scan held for the clerk
(`notices.posting.hold`) whose form is never sent again, or the file of a save whose transaction then failed to
commit (the row is added first, the file sealed after, the COMMIT last). Nobody serves such a file (files are served
through their row), but it holds personal papers for nothing.

A file is removed only when (1) no row of `REFERENCES` names its hash and (2) it was last written more than
`MIN_AGE` ago. The age is what keeps a save in flight safe: its row is not committed yet, but its file was written
(or, when already there, touched: `evidence_files.store`) moments ago. Just before it is removed a file is renamed
aside (`<name>.sweeping`): a save from then on finds it absent and writes it anew; the file aside is then asked again
(its age, and whether a row names it now) and removed, or put back when a save touched it or committed a row naming
it meanwhile. A file left aside by an interrupted sweep is put back by the next one. Leftover temporary files of an interrupted write
(`tmp…`, never named by a row) are removed on the same terms; anything else in the store is left alone.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from .audit import log as audit
from .clock import Clock
from .notices.models import VillageFile, VillageMeeting
from .sampling.models import RecheckEvidence
from .store.db import Database
from .store.tables import Evidence

MIN_AGE = timedelta(days=1)
ACTION = "evidence.sweep"
# Every column that names an evidence file by its SHA-256 (a new kind of stored file adds its column here).
REFERENCES = (Evidence.sha256, VillageFile.sha256, RecheckEvidence.sha256, VillageMeeting.minutes_scan_sha256)
_SHA = re.compile(r"[0-9a-f]{64}")
_CHUNK = 500  # hashes asked about in one IN (…)
_LISTED = 200  # hashes named in the audit entry at the most (the count is always whole)
ASIDE = ".sweeping"  # a file being removed, renamed aside first


@dataclass
class Swept:
    """What a sweep found (and, unless a dry run, removed): unnamed files older than the cutoff."""

    files: list[Path] = field(default_factory=list)
    size: int = 0
    kept_referenced: int = 0
    kept_young: int = 0


def _candidates(evidence_dir: Path) -> Iterator[Path]:
    if not evidence_dir.is_dir():
        return
    for path in sorted(evidence_dir.glob("??/*")):
        if path.is_symlink() or not path.is_file():
            continue
        if _SHA.fullmatch(path.name) or path.name.startswith("tmp"):
            yield path


def referenced(session: Session, hashes: Iterable[str]) -> set[str]:
    """Which of `hashes` a row names."""
    wanted, found = sorted(set(hashes)), set()
    for i in range(0, len(wanted), _CHUNK):
        chunk = wanted[i:i + _CHUNK]
        for column in REFERENCES:
            found.update(session.scalars(select(column).where(column.in_(chunk))))
    return found


def _older(path: Path, cutoff: float) -> tuple[bool, int]:
    try:
        info = path.stat()
    except FileNotFoundError:
        return False, 0
    return info.st_mtime < cutoff, info.st_size


def _cutoff(min_age: timedelta) -> float:
    # A file's age is read against the machine's time, the time its mtime was written with (not the system's
    # clock, which a demo or a test may fix).
    return time.time() - min_age.total_seconds()


def find(session: Session, evidence_dir: Path, min_age: timedelta = MIN_AGE) -> Swept:
    """The files a sweep now would remove (nothing is removed)."""
    cutoff = _cutoff(min_age)
    swept, old = Swept(), []
    for path in _candidates(evidence_dir):
        is_old, _ = _older(path, cutoff)
        if is_old:
            old.append(path)
        else:
            swept.kept_young += 1
    named = referenced(session, (p.name for p in old if _SHA.fullmatch(p.name)))
    for path in old:
        if path.name in named:
            swept.kept_referenced += 1
            continue
        swept.files.append(path)
        swept.size += _older(path, cutoff)[1]
    return swept


def sweep(db: Database, evidence_dir: Path, *, clock: Clock, actor: str = "system", dry_run: bool = False,
          min_age: timedelta = MIN_AGE) -> Swept:
    """Remove what `find` finds (each file looked at again just before), then audit one entry with the count."""
    if not dry_run:
        _put_back_left_aside(evidence_dir)
    with db.read() as session:
        found = find(session, evidence_dir, min_age)
    if dry_run:
        return found
    cutoff = _cutoff(min_age)
    removed = Swept(kept_referenced=found.kept_referenced, kept_young=found.kept_young)
    for path in found.files:
        outcome, size = _remove(db, path, cutoff)
        if outcome == "young":  # written again (a save in flight) since it was listed
            removed.kept_young += 1
        elif outcome == "named":  # a save committed a row naming it since it was listed
            removed.kept_referenced += 1
        elif outcome == "removed":
            removed.files.append(path)
            removed.size += size
    _remove_empty_dirs({p.parent for p in removed.files}, evidence_dir)
    hashes = sorted(p.name for p in removed.files)
    with db.begin() as session:
        audit.append(session, actor=actor, role="admin", action=ACTION, subject="evidence", county_code=None,
                     payload={"removed": len(hashes), "bytes": removed.size,
                              "min_age_hours": min_age // timedelta(hours=1), "files": hashes[:_LISTED]}, clock=clock)
    return removed


def _remove(db: Database, path: Path, cutoff: float) -> tuple[str, int]:
    """Remove one listed file, or keep it: ("removed", its size), ("young" | "named" | "gone", 0). It is renamed
    aside first, so that a save from now on writes it anew (`evidence_files.store`) rather than touch what is about to
    go; then the file aside is asked again: touched by a save since it was listed (young), or named by a row committed
    since, it is put back."""
    aside = path.with_name(path.name + ASIDE)
    try:
        os.rename(path, aside)
    except FileNotFoundError:
        return "gone", 0
    is_old, size = _older(aside, cutoff)
    if not is_old:
        _put_back(aside, path)
        return "young", 0
    if _SHA.fullmatch(path.name):
        with db.read() as session:
            if referenced(session, [path.name]):
                _put_back(aside, path)
                return "named", 0
    aside.unlink(missing_ok=True)
    return "removed", size


def _put_back(aside: Path, path: Path) -> None:
    """The file aside back under its name, unless a save wrote it anew meanwhile (then that one stays: the same
    content, sealed again)."""
    try:
        os.link(aside, path)  # never over a file written meanwhile
    except FileExistsError:
        pass
    except OSError:  # a file system without hard links
        if not path.exists():
            os.replace(aside, path)
    aside.unlink(missing_ok=True)


def _put_back_left_aside(evidence_dir: Path) -> None:
    if evidence_dir.is_dir():
        for aside in sorted(evidence_dir.glob(f"??/*{ASIDE}")):
            if aside.is_file() and not aside.is_symlink() and _SHA.fullmatch(aside.name[:-len(ASIDE)]):
                _put_back(aside, aside.with_name(aside.name[:-len(ASIDE)]))


def _remove_empty_dirs(dirs: Iterable[Path], evidence_dir: Path) -> None:
    for d in sorted(dirs):
        if d.parent == evidence_dir:
            try:
                d.rmdir()  # only when empty
            except OSError:
                pass
