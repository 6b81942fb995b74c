"""The multimodal DBN: its up-pass is the closed form of its RBMs' conditionals, it learns a
representation of a small synthetic problem, and it fills in a missing modality."""

import itertools

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


def _exact_missing_text(net: dbn.DeepBeliefNet, image_h1: np.ndarray) -> dict[str, np.ndarray]:
    """``E[layer | image_h1]`` of the text pathway and the joint layer of the tiny DBN below,
    every state of ``text_h2`` and ``text_h1`` enumerated: ``p(text_h2 | image_h1)`` of the top
    RBM (the joint layer summed out), then the sigmoid belief net ``text_h2 -> text_h1 ->
    text``, whose words' probabilities are ``softmax(b + W text_h1)``."""
    rbms = {rbm.upper: jax.tree.map(np.asarray, rbm.params) for rbm in net.rbms}
    top, middle, bottom = rbms["joint"], rbms["text_h2"], rbms["text_h1"]
    tops = np.array(list(itertools.product((0.0, 1.0), repeat=3)))
    joint_fields = (
        top.biases["joint"]
        + image_h1[:, None] @ top.weights["image_h1->joint"]
        + (tops @ top.weights["text_h2->joint"])[None]
    )  # [examples, text_h2 states, joint]
    log_p = tops @ top.biases["text_h2"] + np.logaddexp(0.0, joint_fields).sum(axis=-1)
    p_tops = np.exp(log_p - log_p.max(axis=1, keepdims=True))
    p_tops /= p_tops.sum(axis=1, keepdims=True)
    h1_means = 1 / (
        1 + np.exp(-(middle.biases["text_h1"] + tops @ middle.weights["text_h1->text_h2"].T))
    )
    firsts = tops  # text_h1 has 3 units too
    p_firsts = np.prod(
        np.where(firsts[None] == 1, h1_means[:, None], 1 - h1_means[:, None]), axis=-1
    )
    logits = bottom.biases["text"] + firsts @ bottom.weights["text->text_h1"].T
    words = np.exp(logits - logits.max(axis=1, keepdims=True))
    words /= words.sum(axis=1, keepdims=True)
    return {
        "joint": np.einsum("et,etj->ej", p_tops, 1 / (1 + np.exp(-joint_fields))),
        "text_h2": p_tops @ tops,
        "text_h1": p_tops @ h1_means,
        "text": p_tops @ p_firsts @ words,
    }


def test_a_missing_pathway_gets_the_dbns_own_conditional_means():
    tiny = mm.multimodal_dbm(
        {"image": (mm.Bernoulli(3), [2]), "text": (mm.ReplicatedSoftmax(5), [3, 3])}, joint=3
    )
    rng = np.random.default_rng(0)
    data = {
        "image": (rng.random((20, 3)) < 0.5).astype(np.float32),
        "text": rng.multinomial(4, np.full(5, 0.2), size=20).astype(np.float32),
    }
    net = dbn.train_dbn(jax.random.key(0), tiny, data, num_epochs=1, batch_size=10, progress=False)
    keys = iter(jax.random.split(jax.random.key(1), 100))
    net = dbn.DeepBeliefNet(
        tiny,
        tuple(
            rbm._replace(
                params=jax.tree.map(
                    lambda x: 2.0 * jax.random.normal(next(keys), x.shape), rbm.params
                ).replace(lengths=rbm.params.lengths)
            )
            for rbm in net.rbms
        ),
    )
    image = data["image"][:4]
    means = dbn.infer_missing(jax.random.key(2), net, {"image": image}, num_steps=20_000)
    exact = _exact_missing_text(net, np.asarray(dbn.up_pass(net, {"image": image})["image_h1"]))
    for name, value in exact.items():
        np.testing.assert_allclose(means[name], value, atol=0.02, err_msg=name)
    # The test can tell: passing the means down, not draws, moves the words by more than that.
    rbms = {rbm.upper: jax.tree.map(np.asarray, rbm.params) for rbm in net.rbms}
    middle, bottom = rbms["text_h2"], rbms["text_h1"]
    h1 = 1 / (
        1
        + np.exp(
            -(middle.biases["text_h1"] + exact["text_h2"] @ middle.weights["text_h1->text_h2"].T)
        )
    )
    passed_down = np.asarray(
        jax.nn.softmax(bottom.biases["text"] + h1 @ bottom.weights["text->text_h1"].T)
    )
    assert np.abs(passed_down - exact["text"]).max() > 0.1
