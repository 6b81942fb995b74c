"""Two real paired views of the UCI Multiple Features digits: pixel averages and Fourier
coefficients, each a Gaussian-Bernoulli pathway, joined by a joint layer."""

from experiments.config import base_config


def get_config():
    config = base_config()
    config.dataset = "multifeature"
    config.modalities = {
        "pix": {
            "unit": "gaussian",
            "hidden": (128,),
            "preprocess": "standardise",
            "learning_rate": 0.001,
        },
        "fou": {
            "unit": "gaussian",
            "hidden": (64,),
            "preprocess": "standardise",
            "learning_rate": 0.001,
        },
    }
    config.joint = 128
    config.query = "pix"
    config.pretrain.num_epochs = 20
    config.pretrain.learning_rate = 0.001
    config.train.num_epochs = 30
    config.train.learning_rate = 0.001
    return config
