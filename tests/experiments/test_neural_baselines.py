"""The autoencoder and dual-encoder baselines: their losses in closed form, and that each
learns a small synthetic problem (chance is one in four)."""

import dataclasses

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

import mmdbm as mm
from experiments import autoencoder, contrastive, evaluate, generate
from tests.synthetic import NUM_CLASSES, synthetic_experiment


@pytest.fixture(scope="module")
def experiment():
    return synthetic_experiment()


def probe_accuracy(experiment, represent, modalities) -> float:
    rows, labels = evaluate.complete_rows(experiment)
    features = {
        split: represent(experiment.inputs(split, modalities, rows[split]))
        for split in evaluate.SPLITS
    }
    return evaluate.probed(features, labels)["accuracy"]


def test_info_nce_is_log_batch_when_every_pair_looks_alike():
    same = jnp.tile(jnp.array([[1.0, 0.0]]), (8, 1))
    loss = contrastive.symmetric_info_nce(same, same, jnp.asarray(10.0))
    np.testing.assert_allclose(loss, np.log(8), rtol=1e-6)


def test_info_nce_vanishes_for_distinct_matched_pairs_at_a_large_scale():
    pairs = jnp.eye(4)
    assert contrastive.symmetric_info_nce(pairs, pairs, jnp.asarray(100.0)) < 1e-6


def test_the_autoencoder_learns_and_represents_an_image_alone(experiment):
    trained = autoencoder.train(
        jax.random.key(0), experiment, experiment.inputs("train"), progress=False
    )
    represent = lambda inputs: autoencoder.represent(trained, inputs)
    assert probe_accuracy(experiment, represent, ("image", "text")) > 0.8
    assert probe_accuracy(experiment, represent, ("image",)) > 0.8


def test_the_dual_encoder_learns_and_scores_classes_zero_shot(experiment):
    trained = contrastive.train(
        jax.random.key(0), experiment, experiment.inputs("train"), progress=False
    )
    represent = lambda inputs: contrastive.represent(trained, inputs)
    assert probe_accuracy(experiment, represent, ("image", "text")) > 0.8
    assert probe_accuracy(experiment, represent, ("image",)) > 0.8
    documents = np.concatenate([generate.document(experiment, w) for w in experiment.class_words])
    test = experiment.splits["test"]
    scores = contrastive.zero_shot_scores(trained, "image", test["image"], "text", documents)
    assert scores.shape == (len(test["image"]), NUM_CLASSES)
    assert mm.metrics.accuracy(scores.argmax(axis=1), test["labels"]) > 0.6


def test_the_dual_encoder_pairs_exactly_two_modalities(experiment):
    config = ml_collections.ConfigDict(experiment.config.to_dict())
    config.modalities = {"image": config.modalities.image.to_dict()}
    image_only = dataclasses.replace(experiment, config=config)
    with pytest.raises(ValueError, match="pairs two modalities"):
        contrastive.train(jax.random.key(0), image_only, experiment.inputs("train", ("image",)))
