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
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/mmdbm/mmdbm/blob/main/notebooks/01_rbm_quickstart.ipynb)
#
# # RBMs on digits: train, look, and measure the log-likelihood
#
# A restricted Boltzmann machine over binary pixels `v` and binary hidden units `h` has the
# energy `E(v, h) = -b.v - c.h - v'Wh`; summing `h` out gives the free energy
# `F(v) = -b.v - sum_j softplus(c_j + v'W_j)` and `p(v) = exp(-F(v)) / Z`. Here we train a
# Bernoulli RBM and a Gaussian-Bernoulli RBM on the 5,000 MNIST digits that ship with mmdbm,
# look at their filters and samples, and estimate `log Z` by annealed importance sampling
# (AIS, Salakhutdinov & Murray 2008) to get the test log-likelihood with its interval.

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

# %%
import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

import mmdbm as mm
from mmdbm.compilation import enable_persistent_cache

# Compiled programs are kept on disk (~/.cache/mmdbm/jax), so a rerun compiles nothing;
# MMDBM_COMPILATION_CACHE=off turns that off.
enable_persistent_cache()

# MMDBM_NOTEBOOK_SIZE=small runs everything at a few seconds' size (the tests use it).
SMALL = os.environ.get("MMDBM_NOTEBOOK_SIZE") == "small"
HIDDEN = 64 if SMALL else 500
EPOCHS = 3 if SMALL else 30
AIS_BETAS = 500 if SMALL else 10_000
print(jax.devices())

# %% [markdown]
# ## The data
# `mm.datasets.load` returns the splits as NumPy arrays. The pixels lie in [0, 1]; the
# Bernoulli RBM sees them binarised at one half.

# %%
digits = mm.datasets.load("mnist_tags")
train = (digits["train"]["image"] >= 0.5).astype(np.float32)
test = (digits["test"]["image"] >= 0.5).astype(np.float32)
if SMALL:
    train, test = train[:1000], test[:200]


def show(images, title, columns=10, size=28):
    """Flat square images in a grid."""
    rows = -(-len(images) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(columns, rows + 0.4), squeeze=False)
    for axis in axes.flat:
        axis.set_axis_off()
    for axis, image in zip(axes.flat, images, strict=False):
        axis.imshow(np.reshape(image, (size, size)), cmap="gray")
    figure.suptitle(title)
    plt.show()


show(train[:20], "training digits, binarised")

# %% [markdown]
# ## Training with persistent contrastive divergence
# `mm.fit` runs each epoch as one compiled `lax.scan` over shuffled minibatches. The gradient
# of the log-likelihood is the data statistics minus the model statistics; PCD takes the model
# statistics from 100 persistent Markov chains advanced by five Gibbs steps per update
# (Tieleman 2008). `model.init` sets the visible biases to the log-odds of the pixel means.

# %%
rbm = mm.rbm(mm.Bernoulli(784), HIDDEN)
data = {"v": train}
num_steps = EPOCHS * (len(train) // 100)
params, history = mm.fit(
    jax.random.key(0),
    rbm,
    data,
    estimator=mm.pcd(rbm, num_gibbs_steps=5),
    optimizer=mm.default_optimizer(num_steps, learning_rate=0.01),
    num_epochs=EPOCHS,
    batch_size=100,
)
plt.plot([epoch["reconstruction_error"] for epoch in history])
plt.xlabel("epoch")
plt.ylabel("reconstruction error")
plt.show()

# %% [markdown]
# Each hidden unit's weights, seen as an image, are its filter: strokes and blobs.

# %%
show(np.asarray(params.weights["v->h"]).T[:40], "filters of 40 hidden units")

# %% [markdown]
# Samples from the model: block Gibbs chains (`h ~ p(h | v)`, `v ~ p(v | h)`), jit-compiled
# and vmapped over the chains, started from the biases alone.

# %%
samples = mm.sample(jax.random.key(1), rbm, params, num_chains=20, num_steps=1000)
show(samples["v"], "samples after 1,000 Gibbs steps")

# %% [markdown]
# ## The log-likelihood
# For an RBM `log p(v) = -F(v) - log Z` is exact once `log Z` is known. AIS anneals from a
# model without weights (whose `Z` is known; by default each layer independent with the
# model's own marginals) to the RBM through intermediate inverse temperatures; the average
# importance weight estimates `Z / Z_0`. `mm.ais` returns the estimate with a
# +-3 standard-deviation interval and the effective sample size of its weights. On average it
# falls short of `log Z`, so the log-likelihood it gives is optimistic; `mm.reverse_ais` runs
# the annealing backwards from the training digits and overshoots `log Z` on average (as far
# as the digits are samples of the model), so its log-likelihood is conservative.

# %%
forward = mm.ais(jax.random.key(3), rbm, params, num_chains=100, num_betas=AIS_BETAS)
reverse = mm.reverse_ais(
    jax.random.key(4), rbm, params, {"v": train}, num_chains=100, num_betas=AIS_BETAS
)
for name, result in (("forward", forward), ("reverse", reverse)):
    low, high = float(result.log_z_low), float(result.log_z_high)
    print(
        f"{name} AIS: log Z = {float(result.log_z):.2f}, +-3 sigma [{low:.2f}, {high:.2f}], "
        f"effective sample size {float(result.effective_sample_size):.0f}"
    )
for name, split in (("train", train), ("test", test)):
    optimistic, conservative = (
        float(jnp.mean(mm.log_likelihood(rbm, params, {"v": split}, r.log_z)))
        for r in (forward, reverse)
    )
    print(f"average {name} log-likelihood: {optimistic:.2f} (conservative {conservative:.2f}) nats")

# %% [markdown]
# The interval on `log Z` shifts every log-likelihood alike. Its lower end is `-inf` when
# the importance weights spread more than a third of their mean (the interval is taken on
# `Z`, as in Salakhutdinov & Murray); more chains or more inverse temperatures tighten it,
# and `mm.AISWarning` says when the effective sample size is too small for it to mean much.
# A test log-likelihood near the training one says the model has not overfitted;
# Salakhutdinov & Murray (2008) report about -86 nats for CD-25 RBMs with 500 hidden units
# trained for far longer on all 60,000 digits.

# %% [markdown]
# ## A Gaussian-Bernoulli RBM
# For real-valued data the visible units are Gaussian with standard deviation `sigma`:
# `E(v, h) = sum_i (v_i - b_i)^2 / (2 sigma_i^2) - c.h - (v / sigma)'Wh`, and given `h` each
# pixel is `N(b_i + sigma_i (Wh)_i, sigma_i^2)`. The pixels are standardised first, as in the
# papers; `init` sets sigma from the data (one, after standardising) and it is held there.
# Its chains are CD-1's, started at the data: persistent chains of Gaussian units with sigma
# held at one can run away to huge values at this learning rate before the weights adapt.

# %%
pixels = digits["train"]["image"][: len(train)]
mean, spread = pixels.mean(axis=0), pixels.std(axis=0)
spread = np.where(spread > 1e-6, spread, 1.0)  # the border pixels are constant
standardised = ((pixels - mean) / spread).astype(np.float32)
grbm = mm.rbm(mm.Gaussian(784), HIDDEN)
num_steps = EPOCHS * (len(standardised) // 100)
grbm_params, grbm_history = mm.fit(
    jax.random.key(4),
    grbm,
    {"v": standardised},
    estimator=mm.cd(grbm, k=1),
    optimizer=mm.default_optimizer(num_steps, learning_rate=0.001),
    num_epochs=EPOCHS,
    batch_size=100,
)
show(np.asarray(grbm_params.weights["v->h"]).T[:40], "Gaussian-Bernoulli RBM filters")

# %% [markdown]
# Its samples are shown as the conditional means of the pixels given the sampled hidden
# units, mapped back to the pixel scale; its test log-likelihood is a density over
# standardised pixels (nats per image, not comparable with the binary RBM's).

# %%
chains = mm.sample(jax.random.key(5), grbm, grbm_params, num_chains=20, num_steps=1000)
pixel_means = jax.vmap(lambda h: mm.conditional_mean(grbm, grbm_params, {"h": h}, "v"))(chains["h"])
show(np.asarray(pixel_means) * spread + mean, "Gaussian-Bernoulli RBM: pixel means of samples")
grbm_ais = mm.ais(jax.random.key(7), grbm, grbm_params, num_chains=100, num_betas=AIS_BETAS)
test_pixels = ((digits["test"]["image"][: len(test)] - mean) / spread).astype(np.float32)
nats = mm.log_likelihood(grbm, grbm_params, {"v": test_pixels}, grbm_ais.log_z)
print(f"log Z = {float(grbm_ais.log_z):.1f}, test log-density {float(jnp.mean(nats)):.1f} nats")
