"""Services, the web server and the cogs depend on the storage Protocol only, never a backend."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.postgres import postgres_dsn

ROOT = Path(__file__).resolve().parents[1]
# Only these wire a concrete store (open it with the configured backend).
WIRING = {"bot/app.py", "bot/database.py", "bot/cli/stores.py", "bot/cli/db.py"}
BACKEND_NAMES = {"LinkStore", "SqliteBackend", "PostgresBackend"}
BACKEND_MODULES = {"bot.storage.sqlite", "bot.storage.postgres", "bot.storage.store"}


def imported_names(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module in BACKEND_MODULES:
                found.add(node.module)
            if node.module.startswith("bot.storage"):
                found |= {alias.name for alias in node.names} & BACKEND_NAMES
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names} & BACKEND_MODULES
    return found


def test_no_service_web_or_cog_module_imports_a_backend() -> None:
    modules = [
        *ROOT.glob("bot/*.py"),
        *ROOT.glob("bot/web/*.py"),
        *ROOT.glob("bot/cli/*.py"),
        *ROOT.glob("cogs/*.py"),
    ]
    assert len(modules) > 10
    offenders = {
        str(path.relative_to(ROOT)): names
        for path in modules
        if str(path.relative_to(ROOT)) not in WIRING and (names := imported_names(path))
    }
    assert offenders == {}


def test_ci_fails_instead_of_skipping_when_postgres_is_required(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("BOT_TEST_POSTGRES", raising=False)
    monkeypatch.setenv("BOT_TEST_REQUIRE_POSTGRES", "1")
    with pytest.raises(pytest.fail.Exception, match="BOT_TEST_POSTGRES is not set"):
        postgres_dsn()
    monkeypatch.delenv("BOT_TEST_REQUIRE_POSTGRES")
    with pytest.raises(pytest.skip.Exception, match="needs a PostgreSQL server"):
        postgres_dsn()
