"""The multimodal DBN: its up-pass is the closed form of its RBMs' conditionals, it learns a
representation of a small synthetic problem, and it fills in a missing modality."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import mmdbm as mm
from mmdbm import dbn
from tests.synthetic import IMAGE_WIDTH, NUM_CLASSES, VOCABULARY, paired_classes

MODEL = mm.multimodal_dbm(
    {"image": (mm.Gaussian(IMAGE_WIDTH), [32]), "text": (mm.ReplicatedSoftmax(VOCABULARY), [16])},
    joint=24,
)
RATES = {"image_h1": 0.005, "text_h1": 0.05, "joint": 0.05}


@pytest.fixture(scope="module")
def trained():
    train, test = paired_classes(600, seed=0), paired_classes(400, seed=1)
    net = dbn.train_dbn(
        jax.random.key(0),
        MODEL,
        {"image": train["image"], "text": train["text"]},
        num_epochs=15,
        batch_size=20,
        learning_rate=RATES,
        progress=False,
    )
    return net, train, test


def test_up_pass_is_the_composition_of_the_rbms_conditional_means():
    data = paired_classes(40)
    net = dbn.train_dbn(
        jax.random.key(1),
        MODEL,
        {"image": data["image"], "text": data["text"]},
        num_epochs=1,
        batch_size=20,
        progress=False,
    )
    rbms = {rbm.upper: rbm.params for rbm in net.rbms}
    image, text = jnp.asarray(data["image"]), jnp.asarray(data["text"])
    p = rbms["image_h1"]
    sigma = jnp.exp(p.log_sigma["image"])[None]
    image_h1 = jax.nn.sigmoid(
        (image / sigma) @ p.weights["image->image_h1"] + p.biases["image_h1"][None]
    )
    p = rbms["text_h1"]
    lengths = text.sum(axis=1, keepdims=True)
    text_h1 = jax.nn.sigmoid(
        text @ p.weights["text->text_h1"] + lengths * p.biases["text_h1"][None]
    )
    p = rbms["joint"]
    joint = jax.nn.sigmoid(
        image_h1 @ p.weights["image_h1->joint"]
        + text_h1 @ p.weights["text_h1->joint"]
        + p.biases["joint"][None]
    )
    means = dbn.up_pass(net, {"image": image, "text": text})
    chex.assert_trees_all_close(
        {"image_h1": means["image_h1"], "text_h1": means["text_h1"], "joint": means["joint"]},
        {"image_h1": image_h1, "text_h1": text_h1, "joint": joint},
        atol=1e-5,
    )


def test_the_dbn_representation_separates_the_classes(trained):
    net, train, test = trained
    for modalities in (("image", "text"), ("image",)):
        features = [
            np.asarray(dbn.represent(jax.random.key(2), net, {m: split[m] for m in modalities}))
            for split in (train, test)
        ]
        scores = mm.metrics.logistic_probe(features[0], train["labels"], features[1])
        accuracy = mm.metrics.accuracy(scores.argmax(axis=1), test["labels"])
        assert accuracy > 0.8, (modalities, accuracy)  # chance: 1 / NUM_CLASSES


def test_text_inferred_from_the_image_names_the_class(trained):
    net, _, test = trained
    words = dbn.infer_missing(jax.random.key(3), net, {"image": test["image"]})["text"]
    np.testing.assert_allclose(words.sum(axis=1), 1.0, rtol=1e-5)
    own_words = np.asarray(words).reshape(len(words), NUM_CLASSES, 3).sum(axis=2)
    assert np.mean(own_words.argmax(axis=1) == test["labels"]) > 0.7


def test_bad_observations_are_refused_by_name():
    net = dbn.DeepBeliefNet(MODEL, ())
    with pytest.raises(ValueError, match="joint"):
        dbn.infer_missing(jax.random.key(0), net, {"joint": np.zeros((2, 24), np.float32)})
