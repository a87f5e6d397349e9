"""The shared statements' one translation: SQLite's ``?`` to PostgreSQL's ``$n``."""

from __future__ import annotations

import dataclasses
import re

import pytest

from bot.storage import sql
from bot.storage.backend import BioCodeRow, DueRow, LinkRow, StateRow


def test_numbered_counts_placeholders_in_order() -> None:
    assert sql.numbered("UPDATE t SET a = ? WHERE b = ? AND (c = ? OR d = ?)") == (
        "UPDATE t SET a = $1 WHERE b = $2 AND (c = $3 OR d = $4)"
    )


def test_numbered_leaves_quoted_question_marks() -> None:
    assert sql.numbered("SELECT '?', \"a?\" FROM t WHERE x = ? AND y LIKE 'it''s?'") == (
        "SELECT '?', \"a?\" FROM t WHERE x = $1 AND y LIKE 'it''s?'"
    )


def test_numbered_without_placeholders_is_unchanged() -> None:
    text = "DELETE FROM settings WHERE name LIKE 'claimed:%'"
    assert sql.numbered(text) == text


STATEMENTS = {
    name: value
    for name, value in vars(sql).items()
    if name.isupper() and isinstance(value, str) and value.lstrip().split(" ")[0].isupper()
}


@pytest.mark.parametrize("name", sorted(STATEMENTS))
def test_every_shared_statement_numbers_all_its_placeholders(name: str) -> None:
    statement = STATEMENTS[name].format(seq="seq", lock="")
    translated = sql.numbered(statement)
    assert "?" not in translated
    numbers = [int(n) for n in re.findall(r"\$(\d+)", translated)]
    assert numbers == list(range(1, statement.count("?") + 1))


@pytest.mark.parametrize(
    ("fields", "row_type"),
    [
        (sql.LINK_FIELDS, LinkRow),
        (sql.STATE_FIELDS, StateRow),
        (sql.BIO_FIELDS, BioCodeRow),
        (sql.DUE_FIELDS, DueRow),
    ],
)
def test_columns_are_the_row_fields_in_order(fields: tuple[str, ...], row_type: type) -> None:
    # Rows are read and written by these names: a column missing or out of order would
    # store one field in another's place.
    assert fields == tuple(field.name for field in dataclasses.fields(row_type))
