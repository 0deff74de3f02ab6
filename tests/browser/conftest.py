"""A real server for the browser tests: `verifier init --demo` in a temporary home (once, copied for each module),
then `verifier serve` on a free port, in a process forked from the test process's starter (browserkit.Starter: the
app imported once per process; stopped after the module). Chromium is Debian's: Playwright's
own download cannot work here; `browser` is one Chromium per test process while it runs browser modules, with the
contexts each module opened closed after it (Playwright's sync API runs one at a time)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from browserkit import Starter, serving

CLI = "from verifier.cli import main; main()"
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items) -> None:  # type: ignore[no-untyped-def]
    """Every test here is a `browser` test: its server runs on SQLite in its own home whatever database the rest of
    the run uses, so the run on PostgreSQL (VERIFIER_TEST_DATABASE_URL) skips them: they ran in the SQLite pass.
    `-m "not browser"` leaves them out of any run."""
    on_postgresql = bool(os.environ.get("VERIFIER_TEST_DATABASE_URL"))
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)
            if on_postgresql:
                item.add_marker(pytest.mark.skip(reason="the browser tests' server runs on SQLite: they run in the "
                                                        "SQLite pass, not again here"))


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    """`verifier init --demo` once per run; each module's server starts from a copy of it (a few seconds saved per
    module on a busy machine, and every module still sees the demo as loaded). Under xdist the workers share one
    run's temporary root: the first worker to need it builds it there (the others wait on its lock), so the run
    builds one demo, not one per worker."""
    import fcntl

    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the run's root, beside each worker's own folder
    home, built = shared / "verifier-browser-demo", shared / "verifier-browser-demo.built"
    with open(shared / "verifier-browser-demo.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not built.exists():
            shutil.rmtree(home, ignore_errors=True)  # what a worker that failed half-way left
            home.mkdir()
            log = shared / "verifier-browser-demo-init.log"
            code = Starter.run(CLI, ["init", "--demo"], home, log, timeout=180)
            assert code == 0, f"verifier init --demo: exit {code}\n" + log.read_text("utf-8", "replace")
            built.touch()
    return home


@pytest.fixture(scope="module")
def server(tmp_path_factory, demo_home: Path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    home = tmp_path_factory.mktemp("verifier-home")
    shutil.copytree(demo_home, home, dirs_exist_ok=True)
    with serving(home) as base:
        yield base


class _Chromium:
    """One Chromium per test process for a run of browser modules (launching it costs a second or two of the two cores
    each time): each module still gets contexts of its own, closed after it (`browser`), and it is closed when the
    process turns to tests outside this folder."""

    playwright = None
    browser = None
    sync_api = None

    @classmethod
    def get(cls):  # type: ignore[no-untyped-def]
        from browserkit import CHROMIUM, CHROMIUM_ARGS

        if cls.browser is None:
            if cls.sync_api is None:
                cls.sync_api = pytest.importorskip("playwright.sync_api",
                                                   reason="the browser tests need the playwright package")
            cls.playwright = cls.sync_api.sync_playwright()
            cls.browser = cls.playwright.__enter__().chromium.launch(executable_path=str(CHROMIUM),
                                                                     args=CHROMIUM_ARGS)
        return cls.browser

    @classmethod
    def close(cls) -> None:
        if cls.browser is not None:
            browser, playwright, cls.browser, cls.playwright = cls.browser, cls.playwright, None, None
            try:
                browser.close()
            finally:
                playwright.__exit__(None, None, None)


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    """Chromium for the module: the process's one (see `_Chromium`); every context the module opened is closed after
    it, as if its browser were closed."""
    from browserkit import CHROMIUM, NO_CHROMIUM

    if not CHROMIUM.exists():
        pytest.skip(NO_CHROMIUM)
    b = _Chromium.get()
    before = set(b.contexts)
    yield b
    for context in b.contexts:
        if context not in before:
            context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):  # type: ignore[no-untyped-def]
    yield  # the module's fixtures (its contexts, its server) are finalised first
    if nextitem is None or HERE not in Path(str(nextitem.path)).resolve().parents:
        _Chromium.close()
        Starter.close()
