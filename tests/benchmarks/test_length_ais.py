"""The long-length AIS benchmark runs at a tiny size, and its bound holds against enumeration."""

import itertools
import json
import math

import jax
import jax.numpy as jnp
import numpy as np

import mmdbm as mm
from tests.scripts import load_script


def test_every_estimate_of_every_chosen_length_is_reported(tmp_path):
    bench = load_script("benchmarks/length_ais.py")
    with jax.numpy_dtype_promotion("standard"):  # optax.adam raises floats to int powers
        results = bench.main("tiny", tmp_path / "length.json")
    assert json.loads((tmp_path / "length.json").read_text()) == results
    lengths = [row["length"] for row in results["rows"]]
    assert lengths == sorted(set(lengths)) and len(lengths) >= 3
    for row in results["rows"]:
        for name in ("weights", "length"):
            for key in bench.KEYS:
                assert math.isfinite(row[f"{name} {key}"]) and row[f"{name} {key} ess"] > 0
    assert results["whole_split"]["lengths"] > len(lengths)


def test_log_z_is_the_tempered_sum_of_f_and_the_ascent_bounds_it_from_below():
    """``log Z_M = logsumexp_h M f(h)`` (the enumeration oracle, which sums the words out its
    own way), so ``M f(h)`` of the state the ascent finds lies below it."""
    bench = load_script("benchmarks/length_ais.py")
    documents = mm.datasets.load("reuters")["train"]["text"][:200]
    with jax.numpy_dtype_promotion("standard"):
        model, params = bench.trained_rsm(documents, 6, 2)
    states = jnp.asarray(list(itertools.product([0.0, 1.0], repeat=6)))
    logits = params.biases["v"][None] + states @ params.weights["v->h"].T
    f = states @ params.biases["h"] + jax.nn.logsumexp(logits, axis=1)
    best = bench.highest_f(params, starts=3)
    assert best <= float(jnp.max(f)) + 1e-4
    for length in (5, 80):
        exact = mm.exact_log_partition(model, params, lengths={"v": length})
        np.testing.assert_allclose(exact, float(jax.nn.logsumexp(length * f)), rtol=1e-5)
        assert length * best <= exact + 1e-3
