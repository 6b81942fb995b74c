"""The command line the experiment benchmarks built on the quality benchmark share:
``--size`` picks one of a benchmark's sizes (``full`` by default, ``tiny`` to check that it
runs) and ``--output`` names the JSON file its rows are written to."""

from __future__ import annotations

import argparse
import json
from collections.abc import Collection
from pathlib import Path


def size_and_output_parser(doc: str, sizes: Collection[str]) -> argparse.ArgumentParser:
    """A parser described by the first line of a benchmark's module ``doc``, with ``--size``
    (one of ``sizes``) and ``--output``; a benchmark adds its own arguments to it."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--size", choices=sorted(sizes), default="full")
    parser.add_argument("--output", type=Path, default=None)
    return parser


def write_rows(rows: list[dict], output: Path | None) -> None:
    """Write a benchmark's ``rows`` as JSON to ``output`` (nothing when it is ``None``)."""
    if output is not None:
        output.write_text(json.dumps(rows, indent=2))
