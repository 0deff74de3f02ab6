"""What a benchmark's PostgreSQL backends are doing, sampled: `python -m benchmarks.pg_waits [--url URL]`.

Run beside `benchmarks.check_cpu --concurrent N` with `VERIFIER_BENCH_DATABASE_URL` (or `scripts/bench load`): it
waits for the next `bench_load_*` database to be made, then every 10 ms reads `pg_stat_activity` for that database's
backends, until the database is dropped. Of the samples with at least two backends in a transaction (the checks'
phase, not the one-at-a-time set-up), it prints the mean number of backends running a statement, waiting on a lock
(by wait event: `tuple`, `transactionid`, …; the audit log's head), waiting for the process in a transaction
(`idle in transaction`) and in each other wait. The sampler's own connection is to the URL's database, not the
benchmark's, so the benchmark's server CPU does not count it.
"""

from __future__ import annotations

import argparse
import collections
import time

import psycopg

_ACTIVITY = """SELECT state, wait_event_type, wait_event FROM pg_stat_activity
WHERE datname = %s AND pid <> pg_backend_pid() AND backend_type = 'client backend'"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--seconds", type=float, default=900, help="give up after this long")
    args = parser.parse_args()
    end = time.monotonic() + args.seconds
    with psycopg.connect(args.url, autocommit=True) as conn:
        names = "SELECT datname FROM pg_database WHERE datname LIKE 'bench\\_load\\_%'"
        before = {r[0] for r in conn.execute(names)}
        name = None
        while name is None and time.monotonic() < end:
            new = {r[0] for r in conn.execute(names)} - before
            name = min(new) if new else None
            time.sleep(0.05)
        if name is None:
            raise SystemExit("no benchmark database appeared")
        counts: collections.Counter[str] = collections.Counter()
        samples = 0
        while time.monotonic() < end:
            rows = conn.execute(_ACTIVITY, (name,)).fetchall()
            if not rows and not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                break
            in_transaction = [r for r in rows if r[0] in ("active", "idle in transaction")]
            if len(in_transaction) >= 2:
                samples += 1
                for state, kind, event in in_transaction:
                    if state == "idle in transaction":
                        counts["idle in transaction (waiting for the process)"] += 1
                    elif kind is None:
                        counts["running"] += 1
                    else:
                        counts[f"waiting: {kind}:{event}"] += 1
            time.sleep(0.01)
    print(f"{name}: {samples} samples with two or more backends in a transaction; mean backends per sample:")
    for what, n in counts.most_common():
        print(f"  {n / max(samples, 1):6.2f}  {what}")


if __name__ == "__main__":
    main()
