"""A binary RBM (784 -> 500) on the bundled MNIST digits, binarised at half intensity, scored
by AIS log-likelihood (Salakhutdinov & Murray 2008)."""

from experiments.config import base_config


def get_config():
    config = base_config()
    config.dataset = "mnist_tags"
    config.modalities = {
        "image": {
            "unit": "bernoulli",
            "hidden": (500,),
            "preprocess": "binarise",
            "learning_rate": 0.01,
        },
    }
    config.query = "image"
    config.train.num_epochs = 30
    config.train.learning_rate = 0.01
    return config
