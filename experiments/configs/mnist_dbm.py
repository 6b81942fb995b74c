"""A two-layer DBM (784 -> 500 -> 1000; Salakhutdinov & Hinton 2009) on the bundled MNIST
digits binarised at half intensity: greedy pretraining, PCD, and the AIS lower bound."""

from experiments.config import base_config


def get_config():
    config = base_config()
    config.dataset = "mnist_tags"
    config.modalities = {
        "image": {
            "unit": "bernoulli",
            "hidden": (500, 1000),
            "preprocess": "binarise",
            "learning_rate": 0.05,
        },
    }
    config.query = "image"
    config.pretrain.num_epochs = 20
    config.train.num_epochs = 30
    config.train.learning_rate = 0.005
    return config
