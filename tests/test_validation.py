"""Bad input raises a ValueError that names the layer and the problem, before any tracing."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import mmdbm as mm
from tests.tracing import count_traces

MODEL = mm.multimodal_dbm(
    {"image": (mm.Gaussian(3), [2]), "text": (mm.ReplicatedSoftmax(4), [2])}, joint=2
)
PARAMS = MODEL.init(jax.random.key(0))
GOOD = {"image": np.zeros((2, 3), np.float32), "text": np.array([[1, 0, 2, 0], [0, 3, 0, 0]])}

BAD_OBSERVED = [
    ({**GOOD, "image": np.array([[0, np.nan, 0], [0, 0, 0]])}, "layer 'image' holds NaN"),
    ({**GOOD, "image": np.zeros((2, 4))}, "layer 'image' has 3 units"),
    ({**GOOD, "caption": np.zeros((2, 4))}, "unknown layer 'caption'"),
    (
        {**GOOD, "text": np.array([[1, -1, 2, 0], [0, 3, 0, 0]])},
        "layer 'text': word counts must be non-negative",
    ),
    (
        {**GOOD, "text": np.array([[1, 0.5, 2, 0], [0, 3, 0, 0]])},
        "layer 'text': word counts must be whole",
    ),
    ({**GOOD, "image": np.array([["a", "b", "c"]] * 2)}, "layer 'image' must hold real numbers"),
    ({**GOOD, "image": np.zeros((3, 3))}, "disagree on the batch size"),
]


@pytest.mark.parametrize(("observed", "message"), BAD_OBSERVED)
def test_mean_field_refuses_bad_observations_before_tracing(observed, message):
    with count_traces() as traces, pytest.raises(ValueError, match=message):
        mm.mean_field(MODEL, PARAMS, observed, lengths={"text": 3})
    assert sum(traces.values()) == 0


@pytest.mark.parametrize(("observed", "message"), BAD_OBSERVED[:6])
def test_sample_refuses_bad_observations_before_tracing(observed, message):
    observed = {k: v[0] for k, v in observed.items()}
    key = jax.random.key(0)  # made outside: a key is itself made by a jitted function
    with count_traces() as traces, pytest.raises(ValueError, match=message):
        mm.sample(key, MODEL, PARAMS, num_chains=2, num_steps=1, observed=observed)
    assert sum(traces.values()) == 0


def test_bernoulli_data_outside_the_unit_interval_is_refused():
    model = mm.rbm(mm.Bernoulli(2), 2)
    with pytest.raises(ValueError, match=r"layer 'v': values must lie in \[0, 1\]"):
        model.init(jax.random.key(0), {"v": np.array([[0.0, 2.0]])})


@pytest.mark.parametrize(
    ("lengths", "message"),
    [
        (None, "layer 'text' is sampled but its total count M is unknown"),
        ({"text": 2.5}, "layer 'text' needs a positive whole total count"),
        ({"text": 0}, "layer 'text' needs a positive whole total count"),
        ({"image": 3}, "'image' is not a Replicated Softmax layer"),
    ],
)
def test_lengths_of_sampled_count_layers_are_checked(lengths, message):
    with pytest.raises(ValueError, match=message):
        mm.sample(jax.random.key(0), MODEL, PARAMS, num_chains=2, num_steps=1, lengths=lengths)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_chains": 0, "num_steps": 1}, "num_chains must be a positive int"),
        ({"num_chains": 2, "num_steps": 1.5}, "num_steps must be a positive int"),
        (
            {"num_chains": 2, "num_steps": 1, "observed": {"image": np.zeros((3, 3))}},
            "layer 'image' has 3 rows but num_chains=2",
        ),
    ],
)
def test_sample_checks_its_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        mm.sample(jax.random.key(0), MODEL, PARAMS, lengths={"text": 3}, **kwargs)


def test_params_of_another_model_are_refused():
    other = mm.rbm(mm.Bernoulli(3), 2).init(jax.random.key(0))
    with pytest.raises(ValueError, match=r"params\.weights has keys"):
        mm.mean_field(MODEL, other, GOOD)
    wrong_shape = PARAMS.replace(biases={**PARAMS.biases, "joint": jnp.zeros(5)})
    with pytest.raises(ValueError, match=r"params.biases\['joint'\] has shape \(5,\)"):
        mm.mean_field(MODEL, wrong_shape, GOOD)


def test_energy_needs_every_layer_and_free_energy_needs_neighbours():
    state = {name: jnp.zeros(unit.n) for name, unit in MODEL.layers.items()}
    state["text"] = jnp.array([1.0, 0.0, 0.0, 0.0])
    del state["joint"]
    with pytest.raises(ValueError, match=r"layers \['joint'\] are missing"):
        mm.energy(MODEL, PARAMS, state)
    with pytest.raises(ValueError, match="layer 'image_h1' cannot be summed out"):
        mm.free_energy(MODEL, PARAMS, {"image": jnp.zeros(3)})


def test_mean_field_settings_are_checked():
    with pytest.raises(ValueError, match="damping must lie in"):
        mm.mean_field(MODEL, PARAMS, GOOD, damping=1.0)
    with pytest.raises(ValueError, match="num_steps must be a non-negative int"):
        mm.mean_field(MODEL, PARAMS, GOOD, num_steps=-1)
    with pytest.raises(ValueError, match="give at least one layer"):
        mm.mean_field(MODEL, PARAMS, {})
    with pytest.raises(
        ValueError, match=r"layer 'image' has 3 units, so its array must have shape \[batch, 3\]"
    ):
        mm.mean_field(MODEL, PARAMS, {"image": np.zeros(3)})
