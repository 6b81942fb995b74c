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
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/mmdbm/mmdbm/blob/main/notebooks/03_replicated_softmax.ipynb)
#
# # Replicated Softmax against LDA on Reuters
#
# The Replicated Softmax (Salakhutdinov & Hinton, NIPS 2009) is an RBM for word counts: a
# document of M words is M softmax units sharing their weights, and its hidden units act as
# topics. For counts `v` (summing to M) and binary `h`, `E(v, h) = -b.v - M c.h - v'Wh`, so
# `p(v | h)` is a multinomial over the vocabulary and the hidden biases grow with the length.
# We train one on the bundled Reuters corn/grain documents (2,000-word vocabulary) and compare
# its per-word test perplexity `exp(-mean_n log p(w_n) / D_n)` with LDA's (Blei, Ng & Jordan
# 2003) and a unigram model's, on the same documents.

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
from experiments import baselines
from mmdbm.compilation import enable_persistent_cache

# Compiled programs are kept on disk (~/.cache/mmdbm/jax), so a rerun compiles nothing;
# MMDBM_COMPILATION_CACHE=off turns that off.
enable_persistent_cache()

# MMDBM_NOTEBOOK_SIZE=small runs everything at a few seconds' size (the tests use it).
SMALL = os.environ.get("MMDBM_NOTEBOOK_SIZE") == "small"
EPOCHS = 2 if SMALL else 30
DOCUMENTS = 4 if SMALL else 20
AIS_CHAINS, AIS_BETAS = (10, 100) if SMALL else (100, 10_000)
TOPICS = 10 if SMALL else 50

# %%
reuters = mm.datasets.load("reuters")
train = reuters["train"]["text"].astype(np.float32)
test = reuters["test"]["text"].astype(np.float32)
test = test[test.sum(axis=1) > 0][:DOCUMENTS]
vocabulary = reuters["vocabulary"]
lengths = train.sum(axis=1)
plt.hist(lengths, bins=50)
plt.xlabel("words per training document")
plt.show()
print(f"{len(train)} training documents of {np.median(lengths):.0f} words (median)")
print(f"a vocabulary of {len(vocabulary)} words")

# %% [markdown]
# ## Training
# PCD with one Gibbs step per update; the chains' documents have the mean training length.
# With 14 updates per epoch the learning rate must be high enough to move: at 0.001 the
# hidden units all learn the same topic and the model is no better than the unigram one.
# `mm.ReplicatedSoftmax` draws the chains' word counts with an exact multinomial sampler.

# %%
rsm = mm.rbm(mm.ReplicatedSoftmax(len(vocabulary)), 50)
data = {"v": train}
params, history = mm.fit(
    jax.random.key(0),
    rsm,
    data,
    estimator=mm.pcd(rsm, num_gibbs_steps=1),
    optimizer=mm.default_optimizer(EPOCHS * (len(train) // 100), learning_rate=0.01),
    num_epochs=EPOCHS,
    batch_size=100,
)
plt.plot([epoch["reconstruction_error"] for epoch in history])
plt.xlabel("epoch")
plt.ylabel("reconstruction error")
plt.show()

# %% [markdown]
# Each hidden unit, when on, adds its column of weights to the words' logits. The most
# frequent words get large weights from every unit, so a unit's topic shows in the words it
# favours more than the other units do.

# %%
weights = np.asarray(params.weights["v->h"])
distinct = weights - weights.mean(axis=1, keepdims=True)
for unit in np.argsort(-distinct.std(axis=0))[:8]:
    print(f"unit {unit:2d}:", " ".join(vocabulary[np.argsort(-distinct[:, unit])[:8]]))

# %% [markdown]
# ## Perplexity
# `Z` depends on the document length M, so AIS estimates one `log Z` per distinct test
# length. Summing the words out leaves the hidden units the marginal `exp(M f(h))` with
# `f(h) = a.h + logsumexp(b + W h)`: the length is an inverse temperature, and
# `mm.ais_over_lengths` anneals once from uniform hidden units up to the longest length,
# reading off every length on the way. `mm.log_likelihood` gives `log p(v)` of the count vectors;
# `mm.per_word_perplexity` takes the multinomial coefficient off, giving the perplexity of
# word sequences as in the papers and in LDA.

# %%
test_lengths = test.sum(axis=1).astype(int)
lengths_seen = sorted(set(test_lengths.tolist()))
result = mm.ais_over_lengths(
    jax.random.key(2),
    rsm,
    params,
    {"v": lengths_seen},
    num_chains=AIS_CHAINS,
    num_betas=AIS_BETAS,
    progress=True,
)
log_z = dict(zip(lengths_seen, np.asarray(result.log_z), strict=True))
rsm_log_p = mm.log_likelihood(rsm, params, {"v": test}, jnp.array([log_z[m] for m in test_lengths]))

# LDA with each test document's topic proportions integrated out (the left-to-right
# estimator of Wallach et al. 2009, its particles resampled), and the
# unigram model, every word drawn from the smoothed training word frequencies; both as
# log-probabilities of count vectors, with the multinomial coefficient, like the RSM's.
lda = baselines.lda(train, TOPICS)
lda_log_p = baselines.lda_held_out_log_likelihood(lda, test)
frequencies = (train.sum(axis=0) + 1) / (train.sum() + len(vocabulary))
coefficients = jax.vmap(mm.ReplicatedSoftmax(len(vocabulary)).log_base_measure)(test)
unigram_log_p = coefficients + test @ np.log(frequencies)

perplexities = {
    "unigram": float(mm.per_word_perplexity(unigram_log_p, test)),
    f"LDA ({TOPICS} topics)": float(mm.per_word_perplexity(lda_log_p, test)),
    "Replicated Softmax (50 hidden)": float(mm.per_word_perplexity(rsm_log_p, test)),
}
for name, value in perplexities.items():
    print(f"{name:32s} {value:8.0f}")
plt.barh(list(perplexities), list(perplexities.values()), color=["C7", "C1", "C0"])
plt.xlabel(f"per-word test perplexity ({len(test)} documents; lower is better)")
plt.show()

# %% [markdown]
# Salakhutdinov & Hinton report the Replicated Softmax below LDA on Reuters with 50 topics
# and full training. Here the model trains for a minute on a CPU; `mmdbm train --config
# reuters_rsm` runs the same comparison as an experiment with a report, and
# `benchmarks/topic_models.py` with three training recipes and a second corpus.
