# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/mmdbm/mmdbm/blob/main/notebooks/04_sweeps_and_devices.ipynb)
#
# # Sweeps as one program, chains over every device
#
# Two ways mmdbm uses JAX's transformations beyond one model on one device:
#
# 1. **A vmapped sweep.** Runs that differ only in their seed and learning rate have the same
#    shapes, so `jax.vmap` turns the training epoch of one into the epoch of all of them:
#    one compiled program with a leading run axis over the training state.
# 2. **Sharding.** Persistent chains and minibatches split over the devices of a mesh, the
#    parameters replicated, and XLA inserts the reductions. On a Colab TPU runtime the mesh
#    holds the TPU cores; elsewhere this notebook asks XLA for 8 CPU devices, so the same code
#    runs (more slowly) on a laptop.

# %%
# Install mmdbm on Colab. On a TPU runtime (Runtime > Change runtime type > TPU) JAX already
# has TPU support and finds the cores by itself; on a GPU runtime its CUDA wheels are there.
import os
import subprocess
import sys

if "google.colab" in sys.modules:
    subprocess.check_call(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "mmdbm[experiments] @ git+https://github.com/mmdbm/mmdbm",
        ]
    )

# Eight CPU devices when there is no accelerator; this must come before JAX starts, and it
# changes nothing on a TPU or GPU runtime.
os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=8"

# %%
from functools import partial

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import optax
from tqdm.auto import trange

import mmdbm as mm
from mmdbm.compilation import enable_persistent_cache
from mmdbm.distributed import data_mesh

# Compiled programs are kept on disk (~/.cache/mmdbm/jax), so a rerun compiles nothing;
# MMDBM_COMPILATION_CACHE=off turns that off.
enable_persistent_cache()

# MMDBM_NOTEBOOK_SIZE=small runs everything at a few seconds' size (the tests use it).
SMALL = os.environ.get("MMDBM_NOTEBOOK_SIZE") == "small"
HIDDEN = 32 if SMALL else 200
EPOCHS = 2 if SMALL else 20
AIS_BETAS = 200 if SMALL else 5000
print(jax.devices())

# %% [markdown]
# ## A sweep over seeds and learning rates
# The learning rate must be data, not a constant baked into the compiled step, for the runs
# to share one program: `optax.inject_hyperparams` keeps it in the optimiser state, where
# `vmap` gives each run its own.

# %%
digits = mm.datasets.load("mnist_tags")
limit = 1000 if SMALL else None
train = jnp.asarray(digits["train"]["image"][:limit] >= 0.5, jnp.float32)
test = jnp.asarray(digits["test"]["image"][:limit] >= 0.5, jnp.float32)
data = {"v": train}

rbm = mm.rbm(mm.Bernoulli(784), HIDDEN)
estimator = mm.pcd(rbm, num_gibbs_steps=1)
optimizer = optax.inject_hyperparams(optax.sgd)(learning_rate=0.0, momentum=0.9)
seeds, rates = [0, 1, 2], [0.003, 0.01, 0.03]


def new_state(seed: int, rate: float) -> mm.TrainState:
    params = rbm.init(jax.random.key(seed), data)
    state = mm.TrainState.create(jax.random.key(1000 + seed), params, optimizer, estimator)
    hyperparams = {**state.opt_state.hyperparams, "learning_rate": jnp.asarray(rate)}
    return state.replace(opt_state=state.opt_state._replace(hyperparams=hyperparams))


runs = [(seed, rate) for rate in rates for seed in seeds]
states = jax.tree.map(lambda *leaves: jnp.stack(leaves), *[new_state(*run) for run in runs])
epoch = jax.jit(
    jax.vmap(
        partial(mm.train_epoch, estimator=estimator, optimizer=optimizer, batch_size=100),
        in_axes=(0, None),
    )
)
errors = []
for _ in trange(EPOCHS, desc=f"{len(runs)} runs as one program"):
    states, infos, finite = epoch(states, data)
    errors.append(infos.reconstruction_error.mean(axis=1))
errors = np.stack(errors)  # [epochs, runs]

figure, axis = plt.subplots()
for run, (seed, rate) in enumerate(runs):
    label = f"learning rate {rate}" if seed == seeds[0] else None
    axis.plot(errors[:, run], color=f"C{rates.index(rate)}", label=label)
axis.set_xlabel("epoch")
axis.set_ylabel("reconstruction error")
axis.legend()
plt.show()

# %% [markdown]
# Reconstruction error is a cheap signal, not the objective. The test log-likelihood of
# each run needs its `log Z`, by AIS, one run at a time: mean and standard deviation over
# the seeds for each learning rate.

# %%
base = rbm.init(jax.random.key(0), data)
test_log_likelihood = np.zeros(len(runs))
for run in trange(len(runs), desc="AIS"):
    params = jax.tree.map(partial(jnp.take, indices=run, axis=0), states.params)
    result = mm.ais(
        jax.random.key(run), rbm, params, num_chains=100, num_betas=AIS_BETAS, base=base
    )
    nats = mm.log_likelihood(rbm, params, {"v": test}, result.log_z)
    test_log_likelihood[run] = float(jnp.mean(nats))
by_rate = test_log_likelihood.reshape(len(rates), len(seeds))
for rate, values in zip(rates, by_rate, strict=True):
    mean, std = values.mean(), values.std()
    print(f"learning rate {rate:<6}: test log-likelihood {mean:8.2f} +- {std:.2f} nats")
plt.errorbar(rates, by_rate.mean(axis=1), yerr=by_rate.std(axis=1), marker="o", capsize=4)
plt.xscale("log")
plt.xlabel("learning rate")
plt.ylabel("test log-likelihood (nats)")
plt.show()

# %% [markdown]
# `mmdbm sweep --config mnist_rbm --seeds 0 1 2 --grid train.learning_rate=0.003,0.01,0.03`
# runs such a sweep from the command line, grouping the runs that share a shape and writing
# one table of mean +- std over seeds.
#
# ## Chains and minibatches over the devices
# `data_mesh()` lays every device along one `"data"` axis. Given it, `mm.sample` splits its
# chains over the devices, and `mm.fit` splits the persistent chains and each minibatch while
# every device holds the whole parameters. Counts must divide evenly.

# %%
mesh = data_mesh()
devices = mesh.size
print(mesh)
params = jax.tree.map(partial(jnp.take, indices=0, axis=0), states.params)
chains = mm.sample(jax.random.key(7), rbm, params, num_chains=4 * devices, num_steps=200, mesh=mesh)
jax.debug.visualize_array_sharding(chains["v"])
for shard in chains["v"].addressable_shards[:3]:
    print(shard.device, "holds chains", shard.index[0])

# %%
sharded_params, history = mm.fit(
    jax.random.key(8),
    rbm,
    data,
    estimator=estimator,
    optimizer=optax.sgd(0.01, momentum=0.9),
    num_epochs=1 if SMALL else 5,
    batch_size=16 * devices,
    num_chains=16 * devices,
    mesh=mesh,
)
print("weights:", sharded_params.weights["v->h"].sharding)
figure, axes = plt.subplots(1, 8, figsize=(8, 1.3))
shown = np.asarray(chains["v"][:: max(1, len(chains["v"]) // 8)])
for axis, image in zip(axes, shown, strict=False):
    axis.imshow(image.reshape(28, 28), cmap="gray")
    axis.set_axis_off()
figure.suptitle("chains sampled across the devices")
plt.show()

# %% [markdown]
# On several hosts (a TPU pod slice), call `jax.distributed.initialize()` first on every
# host; `data_mesh()` then spans the devices of all of them.
