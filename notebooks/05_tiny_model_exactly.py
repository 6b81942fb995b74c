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
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/mmdbm/mmdbm/blob/main/notebooks/05_tiny_model_exactly.ipynb)
#
# # A tiny multimodal DBM, exactly
#
# A multimodal deep Boltzmann machine joins one DBM pathway per modality at a shared top layer
# (Srivastava & Salakhutdinov, 2012). Here both pathways are tiny, so every number below can be
# checked exactly by enumeration: an "image" of 3 real-valued features (Gaussian units) and a
# "text" of 4-word-vocabulary documents with 3 words each (Replicated Softmax units).

# %%
# Install mmdbm on Colab. On a TPU runtime (Runtime > Change runtime type > TPU) JAX already
# has TPU support and finds the cores by itself; on a GPU runtime its CUDA wheels are there.
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

import mmdbm as mm
from mmdbm.compilation import enable_persistent_cache

# Compiled programs are kept on disk (~/.cache/mmdbm/jax), so a rerun compiles nothing;
# MMDBM_COMPILATION_CACHE=off turns that off.
enable_persistent_cache()

model = mm.multimodal_dbm(
    {"image": (mm.Gaussian(3), [4]), "text": (mm.ReplicatedSoftmax(4), [3])}, joint=2
)
print(model)
print("colour classes:", model.colour_classes)

# %% [markdown]
# Parameters are a pytree (`mm.Params`). Giving data to `init` sets the visible biases from
# its statistics and remembers the mean document length M of the text.

# %%
images = jax.random.normal(jax.random.key(0), (8, 3))
documents = jnp.array([[3, 0, 0, 0], [2, 1, 0, 0], [0, 0, 1, 2], [0, 0, 0, 3]] * 2)
params = model.init(jax.random.key(1), {"image": images, "text": documents}, weight_scale=1.0)
print("default lengths:", params.lengths)

# %% [markdown]
# The exact log-partition function enumerates the colour class without Gaussian layers
# (`image_h1`, `text_h1`, `joint`: 2^9 states) and sums the other class analytically.

# %%
log_z = mm.exact_log_partition(model, params)
print(f"log Z = {log_z:.4f}")
print(
    "exact log p(image, text):",
    mm.exact_log_prob(model, params, {"image": images, "text": documents}),
)

# %% [markdown]
# Block Gibbs sampling runs many chains at once (jit-compiled, vmapped over chains). With the
# image clamped, the chains sample the text and hidden layers given the image.

# %%
samples = mm.sample(
    jax.random.key(2), model, params, num_chains=1000, num_steps=200, observed={"image": images[0]}
)
print("mean sampled word counts given image 0:", samples["text"].mean(axis=0))

# %% [markdown]
# The exact answer: enumerate the 20 documents of 3 words and weigh each by
# p(text | image) = p(image, text) / p(image).

# %%
from mmdbm.evaluation.exact import layer_states

all_documents = jnp.asarray(layer_states(model.layers["text"], 3), jnp.float32)
image_0 = jnp.broadcast_to(images[0], (len(all_documents), 3))
log_joint = mm.exact_log_prob(model, params, {"image": image_0, "text": all_documents})
posterior = jax.nn.softmax(log_joint)
print("exact expected word counts given image 0:     ", posterior @ all_documents)

# %% [markdown]
# Mean-field with only the image observed fills in the missing text, as the multimodal DBM does
# for an untagged image: the text layer's means are expected word counts, summing to M. Unlike
# Gibbs sampling it is approximate (a factorised posterior).

# %%
means = mm.mean_field(model, params, {"image": images[:1]}, num_steps=50)
print("mean-field word counts given image 0:", means["text"][0])

# %% [markdown]
# The three answers side by side: Gibbs sampling agrees with enumeration up to its Monte
# Carlo error; mean-field is close but not exact.

# %%
import matplotlib.pyplot as plt
import numpy as np

answers = {
    "exact": posterior @ all_documents,
    "Gibbs (1,000 chains)": samples["text"].mean(axis=0),
    "mean-field": means["text"][0],
}
width = 0.8 / len(answers)
for i, (name, counts) in enumerate(answers.items()):
    plt.bar(np.arange(4) + i * width, np.asarray(counts), width, label=name)
plt.xticks(np.arange(4) + width, [f"word {w}" for w in range(4)])
plt.ylabel("expected count given image 0")
plt.legend()
plt.show()
