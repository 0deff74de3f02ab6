"""Payment pages: the batches of the user's counties, a batch with its items (and those whose payee was changed),
its steps and the actions the user may take now (and, when an expected one is missing, why), the bank file and
the bank's return, and the fund of each contract. The payee change pages are in payees.py.

Who may do what is the payments service's: the pages offer only the actions it would accept, and say why another
is not offered (the four-eyes rules apply to every person whatever roles they hold).

One module a part: `pages` (the list and a batch's routes), `batch_page` (a batch's page), `choose` (生成支付批次), `fund`, `cards` (the home
page's), `roles`; their public names are this package's.
"""

from __future__ import annotations

from .batch_page import render_batch
from .cards import home_cards
from .choose import BatchChoicePages
from .fund import FundPages
from .pages import PaymentPages
from .roles import CANCELLERS, CLAIMS, FINANCE, PAYEE_EDITORS, READER_ROLES, READERS, REVIEWER, Id

__all__ = ["BatchChoicePages", "CANCELLERS", "CLAIMS", "FINANCE", "PAYEE_EDITORS", "READERS", "READER_ROLES", "REVIEWER",
           "FundPages", "Id", "PaymentPages", "home_cards", "render_batch"]
