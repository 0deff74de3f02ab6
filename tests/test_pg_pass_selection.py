"""Which tests the PostgreSQL pass runs (tests/conftest.py's `pytest_collection_modifyitems`): those that reach the
database, but not those marked `same_on_either`; the SQLite pass runs every one."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from test_conftest_sharing import _suite_conftest


class _Item:
    """What the hook reads of a collected test: its file, its fixtures and its markers."""

    def __init__(self, path: Path, fixturenames: tuple[str, ...], *markers: str) -> None:
        self.fspath, self.fixturenames, self.markers = path, fixturenames, markers

    def get_closest_marker(self, name: str) -> object | None:
        return object() if name in self.markers else None


def test_the_postgresql_pass_leaves_out_tests_without_a_database_and_tests_marked_same_on_either(
        pytestconfig, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    conftest = _suite_conftest(pytestconfig)
    rules, pages = tmp_path / "test_rules.py", tmp_path / "test_pages.py"
    rules.write_text("def test_a_rule() -> None: ...\n", encoding="utf-8")
    pages.write_text("def test_a_page(client) -> None: ...\n", encoding="utf-8")
    reaching = ("client", "ctx", "db", "database_url")
    a_rule = _Item(rules, ())
    a_page = _Item(pages, reaching)
    its_wording = _Item(pages, reaching, "same_on_either")
    a_marked_rule = _Item(rules, (), "same_on_either")
    collected = [a_rule, a_page, its_wording, a_marked_rule]
    deselected: list[_Item] = []
    config = SimpleNamespace(hook=SimpleNamespace(pytest_deselected=lambda items: deselected.extend(items)))

    monkeypatch.setattr(conftest, "SPLIT", False)  # as the README's scripts/test runs (not `.ci/run`)
    monkeypatch.setattr(conftest, "PG_URL", "postgresql://postgres@127.0.0.1:5432/nowhere")
    items = list(collected)
    conftest.pytest_collection_modifyitems(config, items)
    assert items == [a_page]
    assert deselected == [a_rule, its_wording, a_marked_rule]

    monkeypatch.setattr(conftest, "PG_URL", None)
    deselected.clear()
    items = list(collected)
    conftest.pytest_collection_modifyitems(config, items)
    assert items == collected and deselected == []


def test_split_shares_the_rules_and_pages_between_the_passes_and_runs_the_rest_on_both(
        pytestconfig, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`.ci/run` (VERIFIER_TEST_SPLIT): a module of the rules and pages has its tests that reach the database
    alternate between the passes, each run once in all, its tests without a database in the SQLite pass; a module of
    the storage (or the money, the log, the sampling, the walks), one at the top of tests/, one sending work at the
    same time or asking which database it runs on (or skipping on one), and a test marked `both_databases` run on
    both."""
    conftest = _suite_conftest(pytestconfig)
    (tmp_path / "tests" / "web").mkdir(parents=True)
    (tmp_path / "tests" / "store").mkdir()
    pages = tmp_path / "tests" / "web" / "test_pages.py"
    pages.write_text("def test_a(client) -> None: ...\n", encoding="utf-8")
    races = tmp_path / "tests" / "web" / "test_races.py"
    races.write_text("import race_kit\n", encoding="utf-8")
    one_database = tmp_path / "tests" / "web" / "test_on_postgresql.py"
    one_database.write_text("def test_p(db) -> None:\n    if db.is_sqlite: ...\n", encoding="utf-8")
    storage = tmp_path / "tests" / "store" / "test_storage.py"
    storage.write_text("def test_s(db) -> None: ...\n", encoding="utf-8")
    top = tmp_path / "tests" / "test_cli.py"
    top.write_text("def test_c(database_url) -> None: ...\n", encoding="utf-8")
    reaching = ("client", "ctx", "db", "database_url")
    shared = [_Item(pages, reaching) for _ in range(7)]
    wording = _Item(pages, ())
    on_both = [_Item(races, reaching), _Item(races, reaching), _Item(one_database, reaching),
               _Item(one_database, reaching), _Item(storage, reaching), _Item(top, reaching),
               _Item(pages, reaching, "both_databases")]
    collected = [*shared[:3], wording, on_both[-1], *shared[3:], *on_both[:-1]]
    config = SimpleNamespace(hook=SimpleNamespace(pytest_deselected=lambda items: None))
    monkeypatch.setattr(conftest, "SPLIT", True)

    passes = []
    for url in (None, "postgresql://postgres@127.0.0.1:5432/nowhere"):
        monkeypatch.setattr(conftest, "PG_URL", url)
        items = list(collected)
        conftest.pytest_collection_modifyitems(config, items)
        passes.append(items)
    sqlite, postgresql = passes
    assert all(item in sqlite and item in postgresql for item in on_both)
    assert wording in sqlite and wording not in postgresql
    ran = [(item in sqlite) + (item in postgresql) for item in shared]
    assert ran == [1] * 7  # each once
    assert 3 <= sum(item in postgresql for item in shared) <= 4  # alternating
    assert [item in postgresql for item in shared][:2] in ([True, False], [False, True])
