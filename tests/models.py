"""The tiny models of every unit mix that the oracles can handle, with their lengths M."""

import mmdbm as mm

TINY_MODELS = {
    "bernoulli_rbm": (mm.rbm(mm.Bernoulli(4), 3), {}),
    "gaussian_rbm": (mm.rbm(mm.Gaussian(2), 3), {}),
    "replicated_softmax_rbm": (mm.rbm(mm.ReplicatedSoftmax(4), 2), {"v": 3}),
    "dbm": (mm.dbm(mm.Bernoulli(3), [3, 2, 2]), {}),
    "multimodal_dbm": (
        mm.multimodal_dbm(
            {"image": (mm.Gaussian(2), [2, 2]), "text": (mm.ReplicatedSoftmax(3), [2])}, joint=2
        ),
        {"text": 3},
    ),
}
