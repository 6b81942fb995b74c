"""Replicated Softmax (Salakhutdinov & Hinton 2009) on the Reuters corn/grain documents, with
per-word test perplexity from AIS, beside LDA."""

from experiments.config import base_config


def get_config():
    config = base_config()
    config.dataset = "reuters"
    config.modalities = {
        "text": {
            "unit": "replicated_softmax",
            "hidden": (50,),
            "preprocess": "none",
            "learning_rate": 0.01,
        },
    }
    config.query = "text"
    config.train.num_epochs = 30
    config.train.learning_rate = 0.001
    config.evaluate.num_topics = 50
    return config
