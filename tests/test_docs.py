"""The API reference builds from the docstrings in strict mode, and covers the public API."""

import inspect
import subprocess
import sys
from pathlib import Path

import mmdbm as mm

ROOT = Path(__file__).parents[1]


def test_reference_builds_strictly_and_documents_every_public_name(tmp_path):
    site = tmp_path / "site"
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stderr
    pages = "".join(path.read_text() for path in (site / "api").rglob("index.html"))
    missing = []
    for name in mm.__all__:
        entry = getattr(mm, name)
        anchor = entry.__name__ if inspect.ismodule(entry) else f"{entry.__module__}.{name}"
        if f'id="{anchor}"' not in pages:
            missing.append(name)
    assert not missing, f"not in the API reference: {missing}"
