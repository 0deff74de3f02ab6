"""HTTP routes of 回避申报: one's own declaration, an admin's view and additions, removals with four eyes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request
from litestar.params import Parameter

from ..accounts.auth import Principal
from ..http import Ctx, JSONBody, get, post
from . import accounts, removal, service

Id = Annotated[str, Parameter(max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")]
AnyRequest = Request[Principal, Any, Any]
ANY: dict[str, Any] = {"roles": "any"}
ADMIN: dict[str, Any] = {"roles": ("admin",)}


class EntryIn(msgspec.Struct):
    relation: str
    id_number: str


class DeclareIn(msgspec.Struct):
    entries: list[EntryIn]


class RemovalIn(msgspec.Struct):
    reason: str = ""


class RemovalDecisionIn(msgspec.Struct):
    note: str = ""


class TieOut(msgspec.Struct):
    id: str
    relation: str
    id_number: str
    """Masked 6+4."""
    declared_at: datetime
    by_admin: bool
    removal_pending: bool
    removal_id: str | None


class AccountsIn(msgspec.Struct):
    accounts: list[str]
    """The person's own bank account numbers (工作人员本人账户)."""


class StaffAccountOut(msgspec.Struct):
    id: str
    account_number: str
    """Masked: the last 4 digits."""
    declared_at: datetime
    by_admin: bool
    removal_pending: bool
    removal_id: str | None


class DeclarationOut(msgspec.Struct):
    user_id: str
    username: str
    display_name: str
    entries: list[TieOut]
    accounts: list[StaffAccountOut] = msgspec.field(default_factory=list)


class RemovalOut(msgspec.Struct):
    id: str
    tie_id: str
    user_id: str
    status: str
    requested_by: str
    decided_by: str | None


def _out(d: service.Declaration, session: Any = None, vault: Any = None) -> DeclarationOut:
    own = [] if session is None else accounts.accounts_of(session, vault, [d.user_id])[d.user_id]
    return DeclarationOut(user_id=d.user_id, username=d.username, display_name=d.display_name, entries=[
        TieOut(id=t.id, relation=t.relation, id_number=t.id_number, declared_at=t.declared_at, by_admin=t.by_admin,
               removal_pending=t.removal_pending, removal_id=t.removal_id) for t in d.ties], accounts=[
        StaffAccountOut(id=a.id, account_number=a.account_number, declared_at=a.declared_at, by_admin=a.by_admin,
                        removal_pending=a.removal_pending, removal_id=a.removal_id) for a in own])


def _removal(r: Any, kind: removal.Kind) -> RemovalOut:
    return RemovalOut(id=r.id, tie_id=getattr(r, kind.entry_fk), user_id=r.user_id, status=r.status,
                      requested_by=r.requested_by, decided_by=r.decided_by)


def _removal_routes(kind: removal.Kind, entries: str, removals: str, what: str) -> tuple[Any, Any, Any]:
    """The three routes of one kind's removals (`recusal/removal.py`): asked for at `entries`/{id}/removal (the
    owner, or an admin), confirmed or refused at `removals`/{id}/… by an admin neither the owner nor who asked."""

    @post(f"{entries}/{{entry_id:str}}/removal", opt=ANY, status_code=201, summary=f"Ask that {what} be removed",
          description="Asked by its owner or an admin; it stays in force until another admin confirms.")
    def ask(self: Any, entry_id: Id, ctx: Ctx, request: AnyRequest, data: JSONBody[RemovalIn]) -> RemovalOut:
        with ctx.db.begin() as session:
            return _removal(removal.request_removal(session, kind, entry_id, reason=data.reason,
                                                    principal=request.user, vault=ctx.vault, clock=ctx.clock), kind)

    def decide(confirm: bool) -> Any:
        verb = "confirm" if confirm else "refuse"
        @post(f"{removals}/{{removal_id:str}}/{verb}", opt=ADMIN, status_code=200,
              summary=f"{verb.title()} the removal of {what}",
              description="By an admin who is neither its owner nor who asked"
                          f"{': it is removed' if confirm else ''}.")
        def decision(self: Any, removal_id: Id, ctx: Ctx, request: AnyRequest,
                    data: JSONBody[RemovalDecisionIn | None] = None) -> RemovalOut:
            with ctx.db.begin() as session:
                return _removal(removal.decide_removal(session, kind, removal_id, confirm=confirm,
                                                       note=data.note if data else "", principal=request.user,
                                                       vault=ctx.vault, clock=ctx.clock), kind)
        return decision

    return ask, decide(True), decide(False)


def _entries(data: DeclareIn) -> list[service.Entry]:
    return [service.Entry(relation=e.relation, id_number=e.id_number) for e in data.entries]


class RecusalController(Controller):
    path = "/api/recusal"
    tags = ["recusal"]

    @get("/mine", opt=ANY)
    def mine(self, ctx: Ctx, request: AnyRequest) -> DeclarationOut:
        """The caller's own declaration (回避申报): themselves and their close relatives, ID numbers masked."""
        with ctx.db.read() as session:
            return _out(service.own_declaration(session, request.user, ctx.vault), session, ctx.vault)

    @post("/mine", opt=ANY, status_code=200)
    def declare_mine(self, ctx: Ctx, request: AnyRequest, data: JSONBody[DeclareIn]) -> DeclarationOut:
        """Add entries to one's own declaration (`relation`: self, spouse, parent, child, sibling, grandparent,
        grandchild, in_law, other). A declaration only grows this way; a removal takes another admin."""
        with ctx.db.begin() as session:
            service.declare(session, request.user.id, _entries(data), principal=request.user, vault=ctx.vault,
                            clock=ctx.clock)
            return _out(service.own_declaration(session, request.user, ctx.vault), session, ctx.vault)

    @get("/users/{user_id:str}", opt=ADMIN)
    def of_user(self, user_id: Id, ctx: Ctx, request: AnyRequest) -> DeclarationOut:
        with ctx.db.read() as session:
            return _out(service.declaration_of(session, request.user, ctx.vault, user_id), session, ctx.vault)

    @post("/users/{user_id:str}", opt=ADMIN, status_code=200)
    def declare_for(self, user_id: Id, ctx: Ctx, request: AnyRequest, data: JSONBody[DeclareIn]) -> DeclarationOut:
        """An admin adds entries for an account of their counties."""
        with ctx.db.begin() as session:
            service.declare(session, user_id, _entries(data), principal=request.user, vault=ctx.vault,
                            clock=ctx.clock)
            return _out(service.declaration_of(session, request.user, ctx.vault, user_id), session, ctx.vault)

    ask_removal, confirm_removal, refuse_removal = _removal_routes(
        service.TIE, "/entries", "/removals", "an entry")

    @post("/mine/accounts", opt=ANY, status_code=200)
    def declare_my_accounts(self, ctx: Ctx, request: AnyRequest, data: JSONBody[AccountsIn]) -> DeclarationOut:
        """Add one's own bank accounts (工作人员本人账户: salary account, any account one controls). A payee equal to
        one is held at batch preparation until a county reviewer other than its owner clears it."""
        with ctx.db.begin() as session:
            accounts.declare(session, request.user.id, data.accounts, principal=request.user, vault=ctx.vault,
                             clock=ctx.clock)
            return _out(service.own_declaration(session, request.user, ctx.vault), session, ctx.vault)

    @post("/users/{user_id:str}/accounts", opt=ADMIN, status_code=200)
    def declare_accounts_for(self, user_id: Id, ctx: Ctx, request: AnyRequest,
                             data: JSONBody[AccountsIn]) -> DeclarationOut:
        """An admin adds a person's own bank accounts (from HR's list) for an account of their counties."""
        with ctx.db.begin() as session:
            accounts.declare(session, user_id, data.accounts, principal=request.user, vault=ctx.vault,
                             clock=ctx.clock)
            return _out(service.declaration_of(session, request.user, ctx.vault, user_id), session, ctx.vault)

    ask_account_removal, confirm_account_removal, refuse_account_removal = _removal_routes(
        accounts.ACCOUNT, "/accounts", "/account-removals", "a declared own account")
