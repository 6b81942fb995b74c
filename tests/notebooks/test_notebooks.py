"""The notebooks: each ``.ipynb`` is the pair of its jupytext ``.py``, is committed without
outputs, and runs top to bottom in a Jupyter kernel at the small size."""

from pathlib import Path

import jupytext
import nbclient
import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).parents[2] / "notebooks").glob("*.ipynb"))
COLAB = "https://colab.research.google.com/github/mmdbm/mmdbm/blob/main/notebooks/"


def cells(notebook) -> list[tuple[str, str]]:
    return [(cell.cell_type, cell.source) for cell in notebook.cells]


def test_the_four_notebooks_are_there():
    names = [path.stem for path in NOTEBOOKS]
    for name in (
        "01_rbm_quickstart",
        "02_multimodal_dbm",
        "03_replicated_softmax",
        "04_sweeps_and_devices",
    ):
        assert name in names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_paired_without_outputs_and_opens_in_colab(path):
    notebook = nbformat.read(path, as_version=4)
    paired = jupytext.read(path.with_suffix(".py"))
    assert cells(notebook) == cells(paired), f"run: jupytext --sync {path.with_suffix('.py')}"
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    assert COLAB + path.name in notebook.cells[0].source
    assert "pip" in notebook.cells[1].source and "TPU" in notebook.cells[1].source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_at_the_small_size(path, monkeypatch, tmp_path):
    monkeypatch.setenv("MMDBM_NOTEBOOK_SIZE", "small")
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    )
    client.execute()
    outputs = [output for cell in notebook.cells for output in cell.get("outputs", [])]
    assert not [output for output in outputs if output.output_type == "error"]
    assert any("image/png" in output.get("data", {}) for output in outputs), "no figure"
