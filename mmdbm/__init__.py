"""mmdbm: multimodal deep Boltzmann machines in JAX.

Layers of Bernoulli, Gaussian and Replicated Softmax units joined into RBMs, DBMs and the
multimodal DBM of Srivastava & Salakhutdinov (2012); pure-function energies, conditionals,
block Gibbs sampling, mean-field inference and exact enumeration for tiny models.
"""

from mmdbm.energy import conditional_mean, energy, field, free_energy
from mmdbm.evaluation.exact import exact_log_partition, exact_log_prob
from mmdbm.graph import Model, dbm, multimodal_dbm, rbm
from mmdbm.inference.gibbs import GibbsState, Sampler, gibbs, sample
from mmdbm.inference.mean_field import mean_field
from mmdbm.params import Params
from mmdbm.units import Bernoulli, Gaussian, ReplicatedSoftmax

__version__ = "0.1.0"

__all__ = [
    "Bernoulli",
    "Gaussian",
    "GibbsState",
    "Model",
    "Params",
    "ReplicatedSoftmax",
    "Sampler",
    "conditional_mean",
    "dbm",
    "energy",
    "exact_log_partition",
    "exact_log_prob",
    "field",
    "free_energy",
    "gibbs",
    "mean_field",
    "multimodal_dbm",
    "rbm",
    "sample",
]
