"""mmdbm: multimodal deep Boltzmann machines in JAX.

Layers of Bernoulli, Gaussian and Replicated Softmax units joined into RBMs, DBMs and the
multimodal DBM of Srivastava & Salakhutdinov (2012); pure-function energies, conditionals,
block Gibbs sampling, mean-field inference, exact enumeration for tiny models, AIS partition
functions and log-likelihoods, CD/PCD training with Optax, greedy pretraining, Orbax
checkpoints, multimodal inference and the papers' metrics.
"""

from mmdbm import datasets
from mmdbm.energy import conditional_mean, energy, field, free_energy
from mmdbm.evaluation import metrics
from mmdbm.evaluation.ais import AISResult, AISWarning, ais, reverse_ais
from mmdbm.evaluation.exact import exact_log_partition, exact_log_prob
from mmdbm.evaluation.length_ais import ais_over_lengths
from mmdbm.evaluation.likelihood import log_likelihood, per_word_perplexity
from mmdbm.graph import Model, dbm, multimodal_dbm, rbm
from mmdbm.inference.gibbs import GibbsState, Sampler, gibbs, sample
from mmdbm.inference.mean_field import mean_field
from mmdbm.inference.missing import infer_missing, represent
from mmdbm.params import Params
from mmdbm.training.estimators import (
    CenteredState,
    EstimatorInfo,
    GradientEstimator,
    cd,
    centered,
    pcd,
)
from mmdbm.training.loop import CollapseWarning, fit
from mmdbm.training.optimizer import default_optimizer
from mmdbm.training.pretrain import pretrain
from mmdbm.training.state import (
    TrainingDivergedError,
    TrainState,
    train_epoch,
    train_epoch_many,
    train_step,
)
from mmdbm.units import Bernoulli, Gaussian, ReplicatedSoftmax

__version__ = "0.1.0"

__all__ = [
    "AISResult",
    "AISWarning",
    "Bernoulli",
    "CenteredState",
    "CollapseWarning",
    "EstimatorInfo",
    "Gaussian",
    "GibbsState",
    "GradientEstimator",
    "Model",
    "Params",
    "ReplicatedSoftmax",
    "Sampler",
    "TrainState",
    "TrainingDivergedError",
    "ais",
    "ais_over_lengths",
    "cd",
    "centered",
    "conditional_mean",
    "datasets",
    "dbm",
    "default_optimizer",
    "energy",
    "exact_log_partition",
    "exact_log_prob",
    "field",
    "fit",
    "free_energy",
    "gibbs",
    "infer_missing",
    "log_likelihood",
    "mean_field",
    "metrics",
    "multimodal_dbm",
    "pcd",
    "per_word_perplexity",
    "pretrain",
    "rbm",
    "represent",
    "reverse_ais",
    "sample",
    "train_epoch",
    "train_epoch_many",
    "train_step",
]
