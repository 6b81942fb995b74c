"""The recipe benchmark's max-norm projection, and one row of it at a tiny size."""

import math

import jax
import jax.numpy as jnp
import numpy as np

import mmdbm as mm
from tests.scripts import load_script


def test_max_norm_puts_every_column_on_or_inside_the_ball():
    recipe = load_script("benchmarks/recipe.py")
    model = mm.rbm(mm.Bernoulli(3), 2)
    weights = jnp.array([[3.0, 0.1], [4.0, 0.2], [0.0, 0.2]])  # column norms 5 and 0.3
    params = model.init(jax.random.key(0)).replace(weights={"v->h": weights})
    step = jax.tree.map(jnp.zeros_like, params)
    projection = recipe.max_norm(1.0)
    updates, _ = projection.update(step, projection.init(params), params)
    moved = np.asarray(weights + updates.weights["v->h"])
    np.testing.assert_allclose(np.linalg.norm(moved, axis=0), [1.0, 0.3], rtol=1e-6)
    np.testing.assert_allclose(moved[:, 0], [0.6, 0.8, 0.0], rtol=1e-6)  # the same direction
    np.testing.assert_array_equal(moved[:, 1], weights[:, 1])  # inside the ball: untouched
    np.testing.assert_array_equal(updates.biases["h"], 0)


def test_adam_moves_the_count_layers_parameters_and_sgd_the_others():
    recipe = load_script("benchmarks/recipe.py")
    model = mm.multimodal_dbm(
        {"image": (mm.Bernoulli(4), [3]), "text": (mm.ReplicatedSoftmax(5), [3])}, joint=2
    )
    params = model.init(jax.random.key(0))
    gradient = jax.tree.map(lambda leaf: jnp.full_like(leaf, 0.5), params)
    optimizer = recipe.count_layers_by_adam(10, model)
    with jax.numpy_dtype_promotion("standard"):  # optax's Adam raises floats to int powers
        updates, _ = optimizer.update(gradient, optimizer.init(params), params)
    rate = recipe.COUNT_LAYER_ADAM_RATE  # Adam's first step: the rate times the gradient's sign
    for moved in (
        updates.biases["text"],
        updates.biases["text_h1"],
        updates.weights["text->text_h1"],
    ):
        np.testing.assert_allclose(moved, -rate, rtol=1e-3)
    default = mm.default_optimizer(10, model=model)
    expected, _ = default.update(gradient, default.init(params), params)
    for name in ("image", "image_h1", "joint"):
        np.testing.assert_allclose(updates.biases[name], expected.biases[name], rtol=1e-6)
    for name in ("image->image_h1", "text_h1->joint"):
        np.testing.assert_allclose(updates.weights[name], expected.weights[name], rtol=1e-6)


def test_a_row_trains_one_variant_and_reports_every_figure(capsys):
    recipe = load_script("benchmarks/recipe.py")
    quality = load_script("benchmarks/quality.py")
    digits = quality.paired_datasets(quality.SIZES["tiny"])[1]
    row = recipe.multimodal_row(digits, "momentum 0.5", epochs=1)
    assert (row["dataset"], row["variant"]) == ("digits_tags", "momentum 0.5")
    figures = (
        "joint",
        "query_only",
        "joint_spread",
        "gap_closed",
        "expected_gap_closed",
        "mean_field_change",
    )
    assert all(math.isfinite(row[key]) for key in figures)
    recipe.print_table([row])
    assert "| digits_tags | momentum 0.5 |" in capsys.readouterr().out


def test_an_mnist_row_trains_the_pretrained_dbm_for_its_budget(capsys):
    recipe = load_script("benchmarks/recipe.py")
    row = recipe.mnist_row(recipe.SIZES["tiny"], "momentum 0.5", epochs=2)
    assert (row["dataset"], row["variant"], row["epochs"]) == ("MNIST DBM", "momentum 0.5", 2)
    assert math.isfinite(row["test_log_likelihood"]) and row["test_log_likelihood"] < 0
    recipe.print_table([row])
    assert "| momentum 0.5 | 2 |" in capsys.readouterr().out
