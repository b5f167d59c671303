"""docs/data.md: every column described once in the code, and the file not stale."""

from __future__ import annotations

from pathlib import Path

import pytest

from loyaltysim.analysis import tables
from loyaltysim.output.data_dictionary import data_dictionary, missing_descriptions

DOC = Path(__file__).resolve().parents[3] / "docs" / "data.md"


def test_every_column_of_every_table_has_a_description() -> None:
    assert missing_descriptions() == []


def test_a_column_without_a_description_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    customers = dict(tables.DESCRIPTIONS["customers"])
    del customers["recency"]
    monkeypatch.setitem(tables.DESCRIPTIONS, "customers", customers)
    assert missing_descriptions() == ["customers.recency"]
    with pytest.raises(ValueError, match=r"customers\.recency"):
        data_dictionary()


def test_docs_data_md_is_generated_from_the_descriptions() -> None:
    assert DOC.read_text(encoding="utf-8") == data_dictionary(), (
        "docs/data.md is stale: python -m loyaltysim.output.data_dictionary docs/data.md"
    )


def test_no_description_is_of_a_column_no_table_has() -> None:
    for table, described in tables.DESCRIPTIONS.items():
        assert set(described) <= set(tables.COLUMNS[table]), table
