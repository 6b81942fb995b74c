"""The multimodal DBM's two jobs on a synthetic two-modality problem with a shared class.

Each example has a class c in {0, 1, 2, 3}; its "image" is a class mean in R^6 plus Gaussian
noise and its "text" is 8 words drawn from a class-specific distribution over 12 words (three
words favoured per class). Each modality alone reveals the class imperfectly (a logistic
probe on the raw image gets about 0.90 on held-out data, on the raw text about 0.88, on both
0.97). After pretraining and PCD training:

* filling in the missing modality recovers its class pattern well above chance (0.25);
* the joint representation of both modalities beats that of either alone.
"""

import jax
import numpy as np
import pytest

import mmdbm as mm

NUM_CLASSES, IMAGE_SIZE, VOCABULARY, WORDS = 4, 6, 12, 8
CHANCE = 1 / NUM_CLASSES


def make_problem(seed=0, num_train=1000, num_test=500):
    rng = np.random.default_rng(seed)
    means = rng.normal(size=(NUM_CLASSES, IMAGE_SIZE))
    words = np.full((NUM_CLASSES, VOCABULARY), 0.5)
    for c in range(NUM_CLASSES):
        words[c, 3 * c : 3 * c + 3] = 2.0
    words /= words.sum(axis=1, keepdims=True)

    def draw(num):
        labels = rng.integers(0, NUM_CLASSES, num)
        image = means[labels] + 0.8 * rng.normal(size=(num, IMAGE_SIZE))
        text = np.stack([rng.multinomial(WORDS, words[c]) for c in labels])
        return {"image": image.astype(np.float32), "text": text.astype(np.float32)}, labels

    return draw(num_train), draw(num_test), means, words


@pytest.fixture(scope="module")
def trained():
    (train, train_labels), (test, test_labels), means, words = make_problem()
    model = mm.multimodal_dbm(
        {
            "image": (mm.Gaussian(IMAGE_SIZE), [16]),
            "text": (mm.ReplicatedSoftmax(VOCABULARY), [16]),
        },
        joint=8,
    )
    params = mm.pretrain(
        jax.random.key(0),
        model,
        train,
        num_epochs=20,
        batch_size=50,
        learning_rate=0.05,
        progress=False,
    )
    params, _ = mm.fit(
        jax.random.key(1),
        model,
        train,
        params=params,
        num_epochs=60,
        batch_size=50,
        optimizer=mm.default_optimizer(60 * 20, learning_rate=0.002),
        progress=False,
    )
    return model, params, train, train_labels, test, test_labels, means, words


@pytest.mark.parametrize("method", ["gibbs", "mean_field"])
def test_missing_text_is_filled_in_with_the_class_words(trained, method):
    model, params, _, _, test, labels, _, words = trained
    filled = mm.infer_missing(
        jax.random.key(2), model, params, {"image": test["image"]}, method=method
    )["text"]
    np.testing.assert_allclose(filled.sum(axis=1), 1.0, rtol=1e-5)
    predicted = np.argmax(np.asarray(filled) @ np.log(words).T, axis=1)
    accuracy = np.mean(predicted == labels)
    print(f"text filled in from the image ({method}): class accuracy {accuracy:.3f}")
    assert accuracy > CHANCE + 0.15


@pytest.mark.parametrize("method", ["gibbs", "mean_field"])
def test_missing_image_is_filled_in_near_its_class_mean(trained, method):
    model, params, _, _, test, labels, means, _ = trained
    filled = mm.infer_missing(
        jax.random.key(3), model, params, {"text": test["text"]}, method=method
    )["image"]
    distances = np.square(np.asarray(filled)[:, None, :] - means[None]).sum(axis=-1)
    accuracy = np.mean(np.argmin(distances, axis=1) == labels)
    print(f"image filled in from the text ({method}): class accuracy {accuracy:.3f}")
    assert accuracy > CHANCE + 0.15


def test_the_joint_representation_of_both_modalities_beats_either_alone(trained):
    model, params, train, train_labels, test, test_labels, _, _ = trained
    accuracies = {}
    for name, layers in [("both", ("image", "text")), ("image", ("image",)), ("text", ("text",))]:
        features = [
            np.asarray(mm.represent(model, params, {k: split[k] for k in layers}))
            for split in (train, test)
        ]
        probabilities = mm.metrics.logistic_probe(features[0], train_labels, features[1])
        accuracies[name] = mm.metrics.accuracy(probabilities.argmax(axis=1), test_labels)
    print("logistic probe on the joint representation:", accuracies)
    assert accuracies["both"] > max(accuracies["image"], accuracies["text"]) + 0.03
    assert min(accuracies.values()) > CHANCE + 0.3
