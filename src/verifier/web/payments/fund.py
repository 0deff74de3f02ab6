"""The fund of each contract: its budget, what is committed and paid, the service fee and the balance."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller
from litestar.params import Parameter, QueryParameter
from litestar.response import Template

from ...domain.errors import NotFound
from ...http import Ctx, get
from ...payments import batch_list, ledger
from ...payments import service as pay
from ...contract_review import reads as contract_reads
from ...store.paged import fold_search
from .. import stagelabels as sl
from ..common import Req, page, user_names
from ..paging import Pager, page_param
from .roles import READERS


class FundPages(Controller):
    path = "/fund"

    @get("/", opt=READERS)
    def fund(self, ctx: Ctx, request: Req,
             contract_id: Annotated[str | None, Parameter(max_length=64, pattern=r"^[A-Za-z0-9_.-]*$")] = None,
             kind: Annotated[str, Parameter(max_length=20)] = "", q: Annotated[str, Parameter(max_length=200)] = "",
             page_no: Annotated[str | None, QueryParameter(name="page", max_length=12)] = None) -> Template:
        """Each contract's fund and its latest movements; one contract's movements (chosen, or the only one) in
        numbered pages, found by kind and by batch number."""
        user = request.user
        kind = kind if kind in ledger.MOVEMENTS else ""
        with ctx.db.read() as session:
            contracts = contract_reads.contracts_for(session, user)
            if contract_id:
                chosen = [c for c in contracts if c.id == contract_id]
                if not chosen:
                    raise NotFound(f"服务合同 {contract_id} 不存在")
            else:
                chosen = contracts
            funds = []
            single = len(chosen) == 1
            for c in chosen:
                summary = pay.fund_summary(session, c.id, user)
                pager = None
                if single:  # every movement, newest first, searched
                    found = ledger.find_movements(session, c.id, kind=kind, q=fold_search(q), page=page_param(page_no))
                    moves = found.items
                    pager = Pager.over("/fund", {"contract_id": contract_id or "", "kind": kind, "q": q}, found)
                else:  # the latest movements of each; the contract's own page finds the others
                    moves = ledger.latest_movements(session, c.id, limit=30)
                codes = batch_list.batch_codes(session, {m.batch_id for m in moves if m.batch_id})
                funds.append({"contract": c, "summary": summary, "moves": moves, "codes": codes, "pager": pager})
            names = user_names(session, [m.created_by for f in funds for m in f["moves"]])
        return page(request, "fund.html", funds=funds, contracts=contracts, contract_id=contract_id or "",
                    names=names, sl=sl, pairs=ledger.MOVEMENTS, kind=kind, q=q)
