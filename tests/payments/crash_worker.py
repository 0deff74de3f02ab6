"""A separate process for the crash tests: releases a batch or imports a bank return through the services.

    python crash_worker.py release|import BATCH_ID USER_ID [RETURN_FILE]

Settings come from VERIFIER_HOME and VERIFIER_DATABASE_URL, as for the `verifier` command. With CRASH_MARKER,
CRASH_AFTER_SQL and CRASH_AFTER_COUNT set, the process writes the marker file once it has executed that many
statements starting with CRASH_AFTER_SQL, then waits inside its open transaction to be killed.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from pathlib import Path

from sqlalchemy import event

from verifier.accounts.auth import principal_of
from verifier.context import Context
from verifier.payments import bankfiles, service
from verifier.settings import Settings
from verifier.store.tables import User


def main() -> int:
    operation, batch_id, user_id = sys.argv[1:4]
    ctx = Context.open(Settings.from_env())
    marker = os.environ.get("CRASH_MARKER")
    if marker:
        prefix = os.environ["CRASH_AFTER_SQL"]
        wanted = int(os.environ.get("CRASH_AFTER_COUNT", "1"))
        seen = [0]

        @event.listens_for(ctx.db.engine, "after_cursor_execute")
        def _maybe_stop(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
            if statement.lstrip().upper().startswith(prefix):
                seen[0] += 1
                if seen[0] == wanted:
                    Path(marker).write_text(f"{os.getpid()}\n")
                    time.sleep(120)  # killed here, mid-transaction

    with ctx.db.read() as session:
        principal = principal_of(session.get(User, user_id))
    with ctx.db.begin() as session:
        if operation == "release":
            out = service.release(session, batch_id, principal=principal, vault=ctx.vault, clock=ctx.clock)
            print(out.status)
        else:
            data = Path(sys.argv[4]).read_bytes()
            result, _ = service.import_return(session, batch_id, bankfiles.parse_return(data),
                                              file_sha256=hashlib.sha256(data).hexdigest(), filename="return.csv",
                                              principal=principal, clock=ctx.clock)
            print(result.batch_status)
    ctx.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
