"""Loading the repository's scripts (experiments, benchmarks) as modules in tests."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).parents[1]


def load_script(relative_path: str):
    """Import ``ROOT / relative_path`` as a module without running its ``__main__`` block."""
    path = ROOT / relative_path
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
