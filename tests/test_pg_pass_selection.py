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
