"""Every table, imported in one place so metadata is complete (for create_all and Alembic)."""

from __future__ import annotations

from verifier.accounts import models as _accounts  # noqa: F401
from verifier.audit import models as _audit_models  # noqa: F401
from verifier.checks import models as _checks  # noqa: E402,F401
from verifier.conflicts import models as _conflicts  # noqa: E402,F401
from verifier.households import models as _households  # noqa: E402,F401
from verifier.followups import models as _followups  # noqa: E402,F401
from verifier.needs import models as _needs  # noqa: E402,F401
from verifier.notices import models as _notices  # noqa: E402,F401
from verifier.payments import models as _payments  # noqa: E402,F401
from verifier.payments import ledger_models as _ledger  # noqa: E402,F401
from verifier.places import models as _places  # noqa: E402,F401
from verifier.reports import models as _reports  # noqa: E402,F401
from verifier.registers import models as _registers  # noqa: E402,F401
from verifier.roster import models as _roster  # noqa: E402,F401
from verifier.sampling import models as _sampling  # noqa: E402,F401
from verifier.recusal import models as _recusal  # noqa: E402,F401
from verifier.peeks import models as _peeks  # noqa: E402,F401

from . import tables as _tables  # noqa: E402,F401
