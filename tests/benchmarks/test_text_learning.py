"""The text-learning benchmark's closed-form likelihood agrees with the library's exact one."""

import jax
import numpy as np

from tests.scripts import load_script


def test_the_closed_form_log_likelihood_is_the_enumerated_one():
    text_learning = load_script("benchmarks/text_learning.py")
    model = text_learning.label_tags_model()
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 5, size=30)
    data = {
        "label": np.eye(10, dtype=np.float32)[rng.integers(0, 10, size=30)],
        "text": np.stack([rng.multinomial(m, np.full(100, 0.01)) for m in lengths]).astype(
            np.float32
        ),
    }
    params = model.init(jax.random.key(0), data, weight_scale=0.5)
    closed_form = float(text_learning.exact_negative_log_likelihood(params, data))
    enumerated = text_learning.enumerated_negative_log_likelihood(model, params, data)
    assert abs(closed_form - enumerated) < 1e-3
