"""The generation diagnosis: the clamped text pathway is the conditional of the full model,
and the benchmark runs at a tiny size."""

import numpy as np

import mmdbm as mm
from tests import brute_force
from tests.scripts import load_script


def test_the_clamped_pathway_is_the_text_conditional_given_the_clamped_layer():
    diagnosis = load_script("benchmarks/generation_diagnosis.py")
    model = mm.multimodal_dbm(
        {"image": (mm.Gaussian(2), [2]), "text": (mm.ReplicatedSoftmax(3), [2, 2])}, joint=2
    )
    params = brute_force.random_params(model, 3)
    sub_model, sub_params = diagnosis.clamped_text_pathway(model, params, "joint")
    assert sub_model.visible == ("text", "joint")
    joint = np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)
    words = mm.infer_missing(
        None, sub_model, sub_params, {"joint": joint}, method="mean_field", lengths={"text": 2}
    )
    # given the joint layer, the text and its pathway do not depend on the image pathway, so
    # the full model with the joint layer observed as a visible layer gives the same conditional
    full = mm.Model(
        model.layers,
        [(a, b) for a, b in model.edges if b != "joint" or a.startswith("image")]
        + [("joint", "text_h2")],
    )
    full_params = params.replace(
        weights={
            **{k: v for k, v in params.weights.items() if k != "text_h2->joint"},
            "joint->text_h2": params.weights["text_h2->joint"].T,
        }
    )
    image = np.zeros((2, 2), np.float32)
    reference = mm.infer_missing(
        None,
        full,
        full_params,
        {"joint": joint, "image": image},
        method="mean_field",
        lengths={"text": 2},
    )
    np.testing.assert_allclose(words["text"], reference["text"], atol=1e-5)


def test_the_diagnosis_runs_at_a_tiny_size(tmp_path, capsys):
    diagnosis = load_script("benchmarks/generation_diagnosis.py")
    rows = diagnosis.main("tiny", tmp_path / "diagnosis.json")
    assert [row["dataset"] for row in rows] == ["mnist_tags", "digits_tags"]
    for row in rows:
        assert 0 <= row["floor"] < row["ceiling"] <= 1
        assert all(0 <= row[name] <= 1 for name in ("from the image", "joint from both"))
    assert "| mnist_tags |" in capsys.readouterr().out
