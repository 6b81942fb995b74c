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
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/mmdbm/mmdbm/blob/main/notebooks/02_multimodal_dbm.ipynb)
#
# # The multimodal DBM: digits and their tags
#
# The multimodal deep Boltzmann machine (Srivastava & Salakhutdinov, NIPS 2012) joins a
# Gaussian-Bernoulli pathway for real-valued image features and a Replicated Softmax pathway
# for word counts at a shared top layer. Its two jobs: a joint representation of both
# modalities, and filling in a missing modality (tags for an untagged image). This notebook
# follows the paper's pipeline on `mnist_tags` (MNIST digits with generated tags, a fifth of
# them untagged): greedy pretraining, PCD training with mean-field, tags generated for
# images, image-only queries with the text inferred, retrieval and the comparison table.

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
import tempfile

import jax
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

import mmdbm as mm
from experiments import evaluate, generate, pipeline
from experiments.config import load_config
from experiments.report import markdown_table
from mmdbm.compilation import enable_persistent_cache

# Compiled programs are kept on disk (~/.cache/mmdbm/jax), so a rerun compiles nothing;
# MMDBM_COMPILATION_CACHE=off turns that off.
enable_persistent_cache()

# MMDBM_NOTEBOOK_SIZE=small runs everything at a few seconds' size (the tests use it).
SMALL = os.environ.get("MMDBM_NOTEBOOK_SIZE") == "small"

# %% [markdown]
# ## The experiment
# The `mnist_tags` config is the demo's (`mmdbm demo` runs the same): image 784 Gaussian ->
# 256, text 100-word Replicated Softmax -> 64, joint layer 128. `pipeline.prepare` loads the
# splits, standardises the pixels with training statistics and builds the model.

# %%
config = load_config("mnist_tags")
if SMALL:
    config.data.limit = 600
    config.pretrain.num_epochs = 2
    config.train.num_epochs = 2
experiment = pipeline.prepare(config)
model = experiment.model
print(model)
train = experiment.splits["train"]
words = generate.vocabulary(experiment)
figure, axes = plt.subplots(1, 6, figsize=(12, 2.4))
for axis, image, counts in zip(axes, train["image"], train["text"], strict=False):
    axis.imshow(experiment.unscaled("image", image).reshape(28, 28), cmap="gray")
    axis.set_title(" ".join(words[counts > 0]) or "(untagged)", fontsize=8)
    axis.set_axis_off()
plt.show()

# %% [markdown]
# ## Pretraining, then training
# Each RBM of the stack is trained greedily, bottom up, the lower ones with doubled
# weights to make up for the missing top-down input (Salakhutdinov & Hinton 2009); each
# pathway has its own learning rate. Then the whole model trains with PCD: mean-field
# (5 sweeps) for the data statistics, 100 persistent chains (20 Gibbs steps per update) for
# the model statistics. Only the tagged images train it; the untagged ones are test queries.

# %%
data = experiment.inputs("train")
params = pipeline.pretrained(experiment, data, progress=True)
t = config.train
num_steps = pipeline.steps_of(config, len(data["image"]))
params, history = mm.fit(
    jax.random.key(config.seed),
    model,
    data,
    params=params,
    optimizer=mm.default_optimizer(num_steps, learning_rate=t.learning_rate),
    estimator=pipeline.estimator_of(experiment),
    num_epochs=t.num_epochs,
    batch_size=t.batch_size,
    num_chains=t.num_chains,
)
plt.plot([epoch["reconstruction_error"] for epoch in history])
plt.xlabel("epoch")
plt.ylabel("reconstruction error")
plt.show()

# %% [markdown]
# ## Tags for images
# Given only an image, mean-field infers the text layer: its means are expected word counts,
# so normalised they are word probabilities. Here are the five most probable words for test
# images, next to their own tags.

# %%
test_rows = experiment.complete("test")
test = experiment.inputs("test", ("image",), test_rows)
probabilities, top = generate.words_for(experiment, params, test)
own = experiment.splits["test"]["text"][test_rows]
figure, axes = plt.subplots(2, 6, figsize=(12, 4.4))
for axis, image, generated, counts in zip(axes.flat, test["image"], top, own, strict=False):
    axis.imshow(experiment.unscaled("image", image).reshape(28, 28), cmap="gray")
    axis.set_title("\n".join(generated[:3]), fontsize=8)
    axis.set_xlabel(" ".join(words[counts > 0]), fontsize=7)
    axis.set_xticks([])
    axis.set_yticks([])
plt.suptitle("top 3 generated tags above; own tags below")
plt.show()
print(f"precision@5 of the generated tags: {evaluate.words_precision(probabilities, own > 0):.3f}")

# %% [markdown]
# ## The comparison table
# The paper compares the joint representation (the top layer's mean-field means) with
# image-only queries, where the missing text is inferred first, and with a DBM of the image
# alone. `pipeline.train` trains that image DBM (a pathway topped by a layer as wide as the
# joint one) with checkpoints in a work directory; `evaluate.multimodal_results` fits a
# logistic regression to each representation, scores the test rows, adds the raw-input
# baselines (logistic regression, a linear SVM, LDA topics) and the retrieval MAP.

# %%
with tempfile.TemporaryDirectory() as workdir:
    query_params = pipeline.train(pipeline.query_config(config), workdir, progress=True)
query_experiment = pipeline.prepare(pipeline.query_config(config))
results = evaluate.multimodal_results(experiment, params, query_experiment, query_params)
table = results["classification"]
display(Markdown(markdown_table(table, ["model", "input", "accuracy", "map"])))

# %%
figure, axis = plt.subplots(figsize=(8, 4))
axis.barh(
    [f"{row['model']}: {row['input']}" for row in table],
    [row["accuracy"] for row in table],
    color=["C0" if "DBM" in row["model"] else "C7" for row in table],
)
axis.invert_yaxis()
axis.set_xlabel("test accuracy")
plt.show()
display(Markdown(markdown_table(results["retrieval"], ["query", "database", "map"])))

# %% [markdown]
# The paper's claims are that the joint representation beats either modality alone, and
# that image-only queries with the text inferred beat the image DBM. At this size each
# accuracy has a standard error near `sqrt(a (1 - a) / 800)`, about 0.01, so compare rows
# with that in mind; the README gives the figures of the full demo.
