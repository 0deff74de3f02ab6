"""The audit log over HTTP: the signed checkpoint and key (public), entries with proofs and consistency proofs."""

from __future__ import annotations

from typing import Annotated, Any, TypeAlias

from litestar import Controller, MediaType, Request
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from ..accounts.auth import Principal
from ..http import get
from ..store.db import Database
from . import service
from .checkpoints import Signer

Db: TypeAlias = NamedDependency[Database]
Sign: TypeAlias = NamedDependency[Signer]
TreeSize = Annotated[int, QueryParameter(ge=0, description="a tree size (number of entries)")]


class AuditController(Controller):
    path = "/api/audit"
    tags = ("audit",)

    @get("/checkpoint", media_type=MediaType.TEXT, opt={"public": True})
    def checkpoint(self, db: Db, signer: Sign) -> str:
        """The latest checkpoint, a C2SP tlog-checkpoint signed note (Ed25519)."""
        return service.checkpoint_text(db, signer)

    @get("/public-key", media_type=MediaType.TEXT, opt={"public": True})
    def public_key(self, signer: Sign) -> str:
        """The signed-note verifier key: `<name>+<key id hex>+<base64(0x01 || public key)>`."""
        return service.public_key_text(signer)

    @get("/entries/{index:int}", opt={"roles": service.READERS})
    def entry(
        self,
        db: Db,
        signer: Sign,
        request: Request[Principal, Any, Any],
        index: FromPath[int],
        tree_size: Annotated[int | None, QueryParameter(ge=1, description="prove against this tree size")] = None,
    ) -> service.EntryWithProof:
        """An entry's exact bytes (base64) and its inclusion proof, against the latest checkpoint by default.

        Auditors, county reviewers and admins, within their counties; other entries answer 404."""
        return service.entry_with_proof(db, index, tree_size, signer=signer, principal=request.user)

    @get("/consistency", opt={"public": True})
    def consistency(
        self,
        db: Db,
        first: TreeSize,
        second: TreeSize,
    ) -> service.ConsistencyProof:
        """The proof that the log at size `second` extends the log at size `first`."""
        return service.consistency(db, first, second)
