"""The benchmarks' shared command line parses their sizes and writes their rows."""

import json

import pytest

from tests.scripts import load_script


def test_the_parser_takes_a_size_of_the_benchmark_and_an_output(tmp_path):
    command_line = load_script("benchmarks/command_line.py")
    parser = command_line.size_and_output_parser("A benchmark.\n\nMore.", {"tiny": 1, "full": 2})
    defaults = parser.parse_args([])
    assert (defaults.size, defaults.output) == ("full", None)
    given = parser.parse_args(["--size", "tiny", "--output", str(tmp_path / "rows.json")])
    assert (given.size, given.output) == ("tiny", tmp_path / "rows.json")
    with pytest.raises(SystemExit):
        parser.parse_args(["--size", "huge"])


def test_rows_are_written_only_where_an_output_is_named(tmp_path):
    command_line = load_script("benchmarks/command_line.py")
    rows = [{"dataset": "digits_tags", "gap_closed": 0.3}]
    command_line.write_rows(rows, tmp_path / "rows.json")
    assert json.loads((tmp_path / "rows.json").read_text()) == rows
    command_line.write_rows(rows, None)
    assert [p.name for p in tmp_path.iterdir()] == ["rows.json"]
