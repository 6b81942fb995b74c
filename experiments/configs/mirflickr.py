"""The paper's MIR-Flickr model (Srivastava & Salakhutdinov 2012, section 5).

Image: 3857 Gaussian -> 1024 -> 1024; text: 2000 Replicated Softmax -> 1024 -> 1024; joint
2048. Runs when the released features are present (``data.directory``; see
``mmdbm/datasets/README.md``). The paper pretrained on a million unlabelled images; this config
trains on the 10,000 labelled training images of a split.
"""

from experiments.config import base_config


def get_config():
    config = base_config()
    config.dataset = "mirflickr"
    config.modalities = {
        "image": {
            "unit": "gaussian",
            "hidden": (1024, 1024),
            "preprocess": "standardise",
            "learning_rate": 0.001,
        },
        "text": {
            "unit": "replicated_softmax",
            "hidden": (1024, 1024),
            "preprocess": "none",
            "learning_rate": 0.01,
        },
    }
    config.joint = 2048
    config.query = "image"
    config.pretrain.num_epochs = 100
    config.pretrain.learning_rate = 0.001
    config.train.num_epochs = 100
    config.train.learning_rate = 0.001
    return config
