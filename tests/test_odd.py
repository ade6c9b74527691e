"""docs/ODD.md's parameter table is the scenario schema's, word for word."""

from __future__ import annotations

from pathlib import Path

from sim.config.scenario import parameter_table, parameter_table_markdown

ODD = Path(__file__).resolve().parents[1] / "docs" / "ODD.md"


def _embedded_table() -> str:
    text = ODD.read_text(encoding="utf-8")
    begin = text.index("<!-- parameter-table:begin -->") + len("<!-- parameter-table:begin -->")
    end = text.index("<!-- parameter-table:end -->")
    return text[begin:end].strip("\n") + "\n"


def test_odd_parameter_table_matches_schema():
    assert _embedded_table() == parameter_table_markdown(), (
        "docs/ODD.md is out of date: paste the output of "
        "sim.config.scenario.parameter_table_markdown() between the parameter-table markers"
    )


def test_every_parameter_is_documented():
    for row in parameter_table():
        assert row["meaning"], f"{row['key']} has no description"
        assert f"`{row['key']}`" in ODD.read_text(encoding="utf-8")


if __name__ == "__main__":  # python tests/test_odd.py: rewrite the table from the schema
    text = ODD.read_text(encoding="utf-8")
    begin = text.index("<!-- parameter-table:begin -->") + len("<!-- parameter-table:begin -->")
    end = text.index("<!-- parameter-table:end -->")
    ODD.write_text(text[:begin] + "\n" + parameter_table_markdown() + text[end:], encoding="utf-8")
    print(f"updated {ODD}")
