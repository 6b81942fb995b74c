"""A small two-modality problem whose classes both modalities reveal, for tests that models
learn: an "image" of class prototypes plus noise and a "text" of words drawn mostly from the
class's own words."""

import numpy as np

NUM_CLASSES, IMAGE_WIDTH, VOCABULARY, WORDS_PER_DOCUMENT = 4, 16, 12, 5
CLASS_WORDS = tuple(
    tuple(f"w{c * 3 + i}" for i in range(3)) for c in range(NUM_CLASSES)
)  # three words per class


def paired_classes(num_examples: int, seed: int = 0) -> dict[str, np.ndarray]:
    """``{"image": float32 [n, 16] standardised, "text": float32 [n, 12] counts, "labels"}``."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, NUM_CLASSES, num_examples)
    prototypes = np.random.default_rng(100).normal(0.0, 1.5, (NUM_CLASSES, IMAGE_WIDTH))
    image = prototypes[labels] + rng.normal(0.0, 1.0, (num_examples, IMAGE_WIDTH))
    word_probabilities = np.full((NUM_CLASSES, VOCABULARY), 0.1 / (VOCABULARY - 3))
    for c in range(NUM_CLASSES):
        word_probabilities[c, 3 * c : 3 * c + 3] = 0.9 / 3
    text = np.stack([rng.multinomial(WORDS_PER_DOCUMENT, word_probabilities[c]) for c in labels])
    image = (image - image.mean(axis=0)) / image.std(axis=0)
    return {"image": image.astype(np.float32), "text": text.astype(np.float32), "labels": labels}


def synthetic_experiment(num_train: int = 600, num_test: int = 400):
    """The problem as an ``experiments`` Experiment: a Gaussian image pathway, a Replicated
    Softmax text pathway, a joint layer, the class words named."""
    from experiments import pipeline
    from experiments.config import base_config

    config = base_config()
    config.dataset = "synthetic"
    config.modalities = {
        "image": {
            "unit": "gaussian",
            "hidden": (32,),
            "preprocess": "none",
            "learning_rate": 0.005,
        },
        "text": {
            "unit": "replicated_softmax",
            "hidden": (16,),
            "preprocess": "none",
            "learning_rate": 0.05,
        },
    }
    config.joint = 24
    config.query = "image"
    config.baselines = {"num_epochs": 40, "batch_size": 20, "learning_rate": 3e-3}
    config.lock()
    splits = {
        "train": paired_classes(num_train, seed=0),
        "validation": paired_classes(40, seed=2),
        "test": paired_classes(num_test, seed=1),
    }
    model = pipeline.build_model(config, {"image": IMAGE_WIDTH, "text": VOCABULARY})
    identity = {
        m: (np.zeros(w), np.ones(w)) for m, w in (("image", IMAGE_WIDTH), ("text", VOCABULARY))
    }
    vocabulary = np.array([f"w{i}" for i in range(VOCABULARY)])
    return pipeline.Experiment(config, model, splits, vocabulary, identity, CLASS_WORDS)
