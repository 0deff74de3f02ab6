"""The one application a test process builds (its routes, signature models, templates cost more than most tests),
reading the context of whichever test is using it: the `client` fixture's, or one a test opened itself."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_APP: list = []


def _current_context():  # type: ignore[no-untyped-def]
    from verifier.context import Context

    class CurrentContext(Context):
        """Stands for the running test's Context: the one application a test process builds reads its context
        through this, so each test's requests reach that test's database, keys, clock and settings. A Context
        itself, so the application's typed dependencies accept it."""

        target: Context | None = None

        def __init__(self) -> None:  # no fields of its own: every attribute is the target's
            pass

        def __getattribute__(self, name: str):  # type: ignore[no-untyped-def]
            return getattr(type(self).target, name)

        def __setattr__(self, name: str, value) -> None:  # type: ignore[no-untyped-def]
            setattr(type(self).target, name, value)

    return CurrentContext


@contextmanager
def the_app(ctx: Any) -> Iterator[Any]:
    """The process's application, on `ctx` inside the block (built the first time). Nothing in it depends on the
    test; a test that needs an application of its own (other settings at start-up) calls `create_app(ctx)` itself."""
    from verifier.app import create_app

    if not _APP:
        current = _current_context()
        current.target = ctx
        _APP.append((create_app(current()), current))
    app, current = _APP[0]
    current.target = ctx
    app.state.ctx = ctx
    try:
        yield app
    finally:
        current.target = None
