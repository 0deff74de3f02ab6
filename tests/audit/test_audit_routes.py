"""The audit endpoints, mounted on a bare app that provides `db` and `signer` the way the real app does."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from litestar import Litestar, Request, Response
from litestar.di import Provide
from litestar.testing import TestClient

from verifier.accounts.auth import Principal
from verifier.audit import merkle
from verifier.audit.checkpoints import Signer
from verifier.audit.notes import VerifierKey, open_checkpoint
from verifier.audit.routes import AuditController
from verifier.domain.errors import DomainError
from verifier.store.db import Database


@pytest.fixture
def client(db: Database, hook, add_entries, signer: Signer) -> Iterator[TestClient]:
    add_entries(9)

    def problem(_: Request, exc: DomainError) -> Response:
        return Response({"status": exc.status, "detail": exc.detail}, status_code=exc.status)

    def logged_in(app):  # type: ignore[no-untyped-def]
        # The real app's login puts the caller in the scope; here, an auditor without a county limit.
        async def middleware(scope, receive, send):  # type: ignore[no-untyped-def]
            scope["user"] = Principal(id="usr_a", username="auditor", display_name="auditor", roles=("auditor",),
                                      counties=())
            await app(scope, receive, send)

        return middleware

    app = Litestar(
        route_handlers=[AuditController],
        middleware=[logged_in],
        dependencies={"db": Provide(lambda: db, sync_to_thread=False),
                      "signer": Provide(lambda: signer, sync_to_thread=False)},
        exception_handlers={DomainError: problem},
    )
    with TestClient(app) as test_client:
        yield test_client


def test_checkpoint_and_public_key_are_plain_text(client: TestClient) -> None:
    key = client.get("/api/audit/public-key")
    assert key.status_code == 200 and key.headers["content-type"].startswith("text/plain")
    note = client.get("/api/audit/checkpoint")
    assert note.headers["content-type"].startswith("text/plain")
    checkpoint, _ = open_checkpoint(note.text, [VerifierKey.parse(key.text)])
    assert checkpoint.size == 9


def test_entry_with_its_inclusion_proof(client: TestClient) -> None:
    key = VerifierKey.parse(client.get("/api/audit/public-key").text)
    checkpoint, _ = open_checkpoint(client.get("/api/audit/checkpoint").text, [key])
    body = client.get("/api/audit/entries/5").json()
    assert set(body) == {"index", "entry", "leaf_hash", "tree_size", "inclusion_proof"}
    data = base64.b64decode(body["entry"])
    assert merkle.leaf_hash(data).hex() == body["leaf_hash"]
    merkle.verify_inclusion(merkle.leaf_hash(data), 5, body["tree_size"],
                            [bytes.fromhex(h) for h in body["inclusion_proof"]], checkpoint.root)
    older = client.get("/api/audit/entries/5", params={"tree_size": 6}).json()
    assert older["tree_size"] == 6
    assert client.get("/api/audit/entries/9").status_code == 404
    assert client.get("/api/audit/entries/5", params={"tree_size": 10}).status_code == 422
    assert client.get("/api/audit/entries/5", params={"tree_size": "x"}).status_code == 400


def test_consistency_proof(client: TestClient) -> None:
    body = client.get("/api/audit/consistency", params={"first": 3, "second": 9}).json()
    assert body["first"] == 3 and body["second"] == 9 and len(body["proof"]) >= 1
    assert client.get("/api/audit/consistency", params={"first": 3, "second": 10}).status_code == 422
    assert client.get("/api/audit/consistency", params={"first": 3}).status_code == 400


def test_proofs_are_public_and_entries_are_for_their_readers(client: TestClient) -> None:
    opts = {route.path: handler.opt for route in client.app.routes for handler in route.route_handlers
            if "GET" in getattr(handler, "http_methods", ())}
    assert opts["/api/audit/checkpoint"].get("public") is True
    assert opts["/api/audit/public-key"].get("public") is True
    assert opts["/api/audit/consistency"].get("public") is True
    assert opts["/api/audit/entries/{index:int}"].get("roles") == ("auditor", "county_reviewer", "admin")
