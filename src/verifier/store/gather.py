"""PostgreSQL: the reads of a group of writes (store/groups.py) sent together, one round trip for all of them.

A group's writes run in one worker thread, one after the other in one transaction, each in a greenlet of its own:
when one of them asks for a batch of prepared reads (`Reader._exchange` on the group's connection), it waits, and the
next one runs until it asks for its own; then the batches of all of them go in one pipeline, and each write goes on
with its own rows. So a group of sixteen checks reads its cases in one round trip, not sixteen. A write's statements
keep their order; only the writes' turns interleave, between their reads (they are writes of rows apart: see the
grouped writes' rule in store/groups.py). Anything else a write runs on the connection (an ORM query, a write not
deferred) is sent when it is made, in its turn.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import greenlet

_local = threading.local()


class _Ask:
    __slots__ = ("compiled",)

    def __init__(self, compiled: Sequence[Any]) -> None:
        self.compiled = compiled


def gathered(connection: Any, compiled: Sequence[Any]) -> list[list[Any]] | None:
    """The rows of `compiled` when a write of a group (in its greenlet) asks on the group's connection: answered
    with the others' (`run_gathered`); None when not in a group (the caller sends them itself)."""
    group = getattr(_local, "group", None)
    if group is None or group[0] is not connection or greenlet.getcurrent() is group[1]:
        return None
    return group[1].switch(_Ask(compiled))  # type: ignore[no-any-return]


class Regroup(Exception):
    """A write of a group claimed what another write of it holds (`claim`): it is made again after them, alone."""


def claim(key: Any) -> None:
    """Within a group of writes, `key` (a household, say) is this write's: another write of the same group that
    claims it is refused with `Regroup` and made again alone after the group, where it sees what this one wrote
    (a write of a group reads what was committed before the group, not what the others of it write). Nothing
    outside a group."""
    group = getattr(_local, "group", None)
    if group is None:
        return
    me = greenlet.getcurrent()
    if group[2].setdefault(key, me) is not me:
        raise Regroup(f"claimed by another write of its group: {key!r}")


def run_gathered(connection: Any, send: Callable[[list[Any]], list[list[Any]]],
                 runs: Sequence[Callable[[], Any]]) -> list[Any]:
    """Each of `runs` in a greenlet of its own, their reads on `connection` sent together by `send` (a reader's
    `exchange_now`), round after round, until all have returned: their results, in order. The first to raise ends
    the others (each its greenlet ended) and is raised here (the caller rolls the transaction back)."""
    here = greenlet.getcurrent()
    lets = [greenlet.greenlet(run, parent=here) for run in runs]
    results: list[Any] = [None] * len(runs)
    asks: dict[int, _Ask] = {}
    _local.group = (connection, here, {})
    try:
        def step(index: int, value: Any) -> None:
            if lets[index].dead:
                results[index] = value
            else:
                asks[index] = value

        for index, let in enumerate(lets):
            step(index, let.switch())
        while asks:
            now = sorted(asks)
            asked = [asks.pop(i) for i in now]
            answers = send([c for ask in asked for c in ask.compiled])
            at = 0
            for index, ask in zip(now, asked):
                rows, at = answers[at:at + len(ask.compiled)], at + len(ask.compiled)
                step(index, lets[index].switch(rows))
        return results
    except BaseException:
        for let in lets:
            if not let.dead:
                try:
                    let.throw(greenlet.GreenletExit)
                except BaseException:  # noqa: BLE001 — the first error is the one raised
                    pass
        raise
    finally:
        _local.group = None
