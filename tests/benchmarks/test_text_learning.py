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


def test_the_class_slope_is_one_for_the_class_frequencies_and_zero_for_the_overall_ones():
    text_learning = load_script("benchmarks/text_learning.py")
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 40)
    words = np.stack(
        [rng.multinomial(6, np.roll(np.linspace(1, 3, 100), 7 * c) / 200) for c in labels]
    )
    train = {"labels": labels, "text": words.astype(np.float32)}
    frequencies = np.stack([words[labels == c].sum(axis=0) for c in range(10)])
    frequencies = frequencies / frequencies.sum(axis=1, keepdims=True)
    overall = words.sum(axis=0) / words.sum()
    assert abs(text_learning.class_slope(frequencies[labels], labels, train) - 1.0) < 1e-3
    assert abs(text_learning.class_slope(np.tile(overall, (400, 1)), labels, train)) < 1e-6
    halfway = np.sqrt((frequencies[labels] + 1e-4) * (overall + 1e-4))  # half the log-ratio
    halfway = halfway / halfway.sum(axis=1, keepdims=True)
    assert 0.4 < text_learning.class_slope(halfway, labels, train) < 0.6
