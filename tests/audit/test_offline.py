"""The county's offline checks: an exported entry against a checkpoint, and two checkpoints against each other."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import msgspec
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from verifier.audit import service
from verifier.audit.checkpoints import Signer, checkpoint_at
from verifier.audit.cli import audit
from verifier.audit.notes import VerifierKey
from verifier.audit.offline import (
    OfflineCheckFailed,
    check_consistency,
    check_entry_proof,
)
from verifier.domain.errors import NotFound, ValidationFailed
from verifier.settings import Settings
from verifier.store.db import Database


@pytest.fixture
def county(db: Database, hook, add_entries, signer: Signer, tmp_path: Path) -> dict[str, Path]:
    """What a county keeps: the key, a checkpoint at 6 entries, a later one at 13, an exported entry."""
    add_entries(6)
    with db.read() as session:
        old = checkpoint_at(session, 6).note
    add_entries(7)
    files = {
        "key": tmp_path / "log.pub",
        "old": tmp_path / "checkpoint-6.txt",
        "new": tmp_path / "checkpoint-13.txt",
        "entry": tmp_path / "entry-4.json",
        "proof": tmp_path / "consistency.json",
    }
    files["key"].write_text(service.public_key_text(signer))
    files["old"].write_text(old)
    files["new"].write_text(service.checkpoint_text(db))
    files["entry"].write_text(json.dumps(msgspec.to_builtins(service.entry_with_proof(db, 4))))
    files["proof"].write_text(json.dumps(msgspec.to_builtins(service.consistency(db, 6, 13))))
    return files


def read(files: dict[str, Path], name: str) -> str:
    return files[name].read_text()


def test_an_exported_entry_is_proven_in_the_checkpoint(county: dict[str, Path]) -> None:
    checked = check_entry_proof(read(county, "entry"), read(county, "new"), str(county["key"]))
    assert (checked.index, checked.tree_size) == (4, 13)
    assert checked.entry.subject == "case_0004" and checked.entry.payload["amount"] == "400.00"


def test_a_proof_for_an_older_tree_needs_the_matching_checkpoint(db: Database, county: dict[str, Path]) -> None:
    entry_at_6 = msgspec.to_builtins(service.entry_with_proof(db, 4, tree_size=6))
    key = read(county, "key")
    assert check_entry_proof(entry_at_6, read(county, "old"), key).tree_size == 6
    with pytest.raises(OfflineCheckFailed, match="tree size 13"):
        check_entry_proof(entry_at_6, read(county, "new"), key)


def _altered_entry(county: dict[str, Path]) -> dict:
    doc = json.loads(read(county, "entry"))
    data = base64.b64decode(doc["entry"]).replace(b'"decision":"pass"', b'"decision":"fail"')
    return {**doc, "entry": base64.b64encode(data).decode()}


@pytest.mark.parametrize("change, message", [
    (lambda doc, county: _altered_entry(county), "do not hash to the leaf hash"),
    (lambda doc, county: {k: v for k, v in _altered_entry(county).items() if k != "leaf_hash"}, "not proven"),
    (lambda doc, county: {**doc, "index": 5}, "not proven"),
    (lambda doc, county: {**doc, "inclusion_proof": doc["inclusion_proof"][:-1]}, "too short"),
    (lambda doc, county: {**doc, "inclusion_proof": doc["inclusion_proof"] + [doc["leaf_hash"]]}, "too long"),
    (lambda doc, county: {**doc, "inclusion_proof": ["ab"] + doc["inclusion_proof"][1:]}, "32-byte hash"),
    (lambda doc, county: {**doc, "entry": "%%%"}, "not base64"),
])
def test_altered_evidence_is_not_proven(county: dict[str, Path], change, message: str) -> None:
    doc = change(json.loads(read(county, "entry")), county)
    with pytest.raises(OfflineCheckFailed, match=message):
        check_entry_proof(doc, read(county, "new"), read(county, "key"))


def test_a_checkpoint_needs_the_logs_key(county: dict[str, Path], settings: Settings) -> None:
    stranger = VerifierKey.from_public_key(settings.log_name, Ed25519PrivateKey.generate().public_key().public_bytes_raw())
    with pytest.raises(OfflineCheckFailed, match="not signed by any known key"):
        check_entry_proof(read(county, "entry"), read(county, "new"), str(stranger))
    forged = read(county, "new").replace("\n13\n", "\n14\n")
    with pytest.raises(OfflineCheckFailed, match="does not verify"):
        check_entry_proof(read(county, "entry"), forged, read(county, "key"))
    with pytest.raises(OfflineCheckFailed, match="verifier key"):
        check_entry_proof(read(county, "entry"), read(county, "new"), "not a key")


def test_a_newer_checkpoint_extends_the_older(county: dict[str, Path]) -> None:
    checked = check_consistency(read(county, "old"), read(county, "new"), read(county, "proof"), read(county, "key"))
    assert (checked.old_size, checked.new_size) == (6, 13)
    with pytest.raises(OfflineCheckFailed, match="other order"):
        check_consistency(read(county, "new"), read(county, "old"), read(county, "proof"), read(county, "key"))
    proof = json.loads(read(county, "proof"))
    bad = {"proof": [proof["proof"][0][:-2] + "00"] + proof["proof"][1:]}
    with pytest.raises(OfflineCheckFailed, match="not shown to extend"):
        check_consistency(read(county, "old"), read(county, "new"), bad, read(county, "key"))
    with pytest.raises(OfflineCheckFailed, match="first=5"):
        check_consistency(read(county, "old"), read(county, "new"), {**proof, "first": 5}, read(county, "key"))


def test_check_commands(county: dict[str, Path]) -> None:
    runner = CliRunner()
    key_text = read(county, "key").strip()
    ok = runner.invoke(audit, ["check-proof", str(county["entry"]), str(county["new"]), "--key", str(county["key"])])
    assert ok.exit_code == 0, ok.output
    assert "已证明：第 4 条记录在日志" in ok.output and "case_0004" in ok.output
    ok = runner.invoke(audit, ["check-consistency", str(county["old"]), str(county["new"]),
                               "--proof", str(county["proof"]), "--key", key_text])
    assert ok.exit_code == 0, ok.output
    assert "是长度 6 时的延续" in ok.output

    county["entry"].write_text(json.dumps(_altered_entry(county)))
    bad = runner.invoke(audit, ["check-proof", str(county["entry"]), str(county["new"]), "--key", key_text])
    assert bad.exit_code == 1 and "未能证明" in bad.output
    bad = runner.invoke(audit, ["check-consistency", str(county["new"]), str(county["old"]),
                                "--proof", str(county["proof"]), "--key", key_text])
    assert bad.exit_code == 1 and "未能证明" in bad.output


def test_export_commands_print_what_the_api_serves(db: Database, county: dict[str, Path], settings: Settings) -> None:
    env = {"VERIFIER_HOME": str(settings.home), "VERIFIER_DATABASE_URL": settings.database_url}
    runner = CliRunner()
    exported = runner.invoke(audit, ["export-entry", "4"], env=env)
    assert exported.exit_code == 0, exported.output
    assert json.loads(exported.output) == json.loads(read(county, "entry"))
    proof = runner.invoke(audit, ["export-consistency", "6", "13"], env=env)
    assert json.loads(proof.output) == json.loads(read(county, "proof"))
    missing = runner.invoke(audit, ["export-entry", "13"], env=env)
    assert missing.exit_code != 0 and "审计日志第 13 条不存在（日志现有第 0 至 12 条）" in missing.output
    note = runner.invoke(audit, ["checkpoint"], env=env)
    assert note.output == read(county, "new")


def test_service_errors_name_what_is_out_of_range(db: Database, county: dict[str, Path]) -> None:
    with pytest.raises(NotFound, match=r"审计日志第 13 条不存在（日志现有第 0 至 12 条）"):
        service.entry_with_proof(db, 13)
    with pytest.raises(NotFound):
        service.entry_with_proof(db, -1)
    with pytest.raises(ValidationFailed) as too_big:
        service.entry_with_proof(db, 4, tree_size=14)
    assert (too_big.value.errors[0].field, too_big.value.errors[0].message) == (
        "tree_size", "应大于该条目的序号 4，且不超过日志现有条数 13")
    with pytest.raises(ValidationFailed):
        service.entry_with_proof(db, 4, tree_size=4)
    with pytest.raises(ValidationFailed) as second:
        service.consistency(db, 2, 14)
    assert second.value.errors[0].field == "second"
    with pytest.raises(ValidationFailed) as first:
        service.consistency(db, 7, 6)
    assert first.value.errors[0].field == "first"
    assert service.consistency(db, 0, 13).proof == [] and service.consistency(db, 13, 13).proof == []
