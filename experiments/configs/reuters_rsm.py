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
    config.train.learning_rate = 0.01
    config.evaluate.num_topics = 50
    # Reverse AIS of every distinct test-document length draws word counts from a multinomial
    # at every step (40 ns a word on a 2-core CPU; forward AIS, mm.ais_over_lengths, draws
    # none): 20 documents, 25 chains and 500 inverse temperatures keep it to minutes there.
    config.evaluate.num_documents = 20
    config.evaluate.num_ais_chains = 25
    config.evaluate.num_ais_betas = 500
    return config
