"""Why tags generated from images sit at the word-frequency floor: the text weights learn too
slowly under the default SGD, and the class is lost on the way down a two-layer text pathway;
not a fault of inference (``python benchmarks/text_learning.py``).

On scikit-learn's 8x8 digits with tags from the ``mnist_tags`` generator (the ``digits_tags``
dataset of ``benchmarks/quality.py``), four experiments:

1. **Label and tags, exactly.** A one-hot digit label (10 Bernoulli units) and the tags (a
   Replicated Softmax over 100 words) joined by 10 hidden units: small enough that the exact
   average log-likelihood, with one partition function per document length, is a closed form
   over the 1,024 hidden states (written out here, independently of the library, and checked
   against ``mm.exact_log_partition``). It is trained by ``mm.fit`` with the default optimizer,
   by plain SGD on the exact gradient with the default optimizer's schedule, by ``mm.fit`` with
   Adam, and by Adam on the exact gradient (the maximum-likelihood reference). For each: the
   exact negative log-likelihood and the precision@5 of the tags generated from the label
   (``mm.infer_missing``, Gibbs) against the floor (word frequencies) and ceiling (the
   class-conditional frequencies).
2. **Image and tags in one RBM** (64 Gaussian pixels and the tags, 64 hidden units): default
   optimizer against Adam, the same two scores plus logistic probes of the hidden means.
3. **The multimodal DBM** of the quality benchmark, pretrained with the defaults, then ``mm.fit``
   with the default optimizer or Adam: whether the text pathway and the joint layer keep any
   spread across examples.
4. **Where the class is lost on the way down.** The multimodal DBM with a text pathway of two
   hidden layers (the quality benchmark's 32-32), of one (32) and of one wider one (64), each
   with the library's defaults and two seeds: the precision@5 of the tags generated from the
   image and their *class slope* (``class_slope``: how much of the class-conditional tag
   log-ratio the generated tags carry, 1 for the class-conditional frequencies themselves, 0
   for a ranking that ignores the class); for the two-layer model also the slope of the tags
   generated with one layer of the model clamped at its mean-field means given both
   modalities, from the text pathway's first layer up to the image pathway's top. The
   reference: a logistic regression on the raw image, its class probabilities mixing the
   class-conditional tag frequencies.

Before them, **where the chains start**: on the label-and-tags RBM, at its initial parameters
and after 60 Adam steps on the exact gradient, plain PCD estimates averaged over 250 updates of
1,000 chains at fixed parameters against the exact gradient (cosine and relative length per
parameter), for chains started at the data (``fit``'s default) and chains all of the mean
document length.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

import mmdbm as mm

sys.path.insert(0, str(Path(__file__).parent))
import quality  # the paired datasets and the scores of the quality benchmark

BATCH, EPOCHS, ADAM_RATE = 50, 50, 0.003


def label_tags_model() -> mm.Model:
    return mm.Model(
        layers={
            "label": mm.Bernoulli(10),
            "text": mm.ReplicatedSoftmax(100),
            "h": mm.Bernoulli(10),
        },
        edges=(("label", "h"), ("text", "h")),
    )


def exact_negative_log_likelihood(params: mm.Params, data: dict) -> jax.Array:
    """-mean log p(label, text) of the label-and-tags RBM, every hidden state enumerated:

        log p = log(M! / prod_w v_w!) + b.v + c.l + sum_j softplus(M a_j + (W_l^T l + W_t^T v)_j)
                - log Z_M,
        log Z_M = logsumexp_h [M a.h + sum_i softplus(c + W_l h)_i + M logsumexp_w (b + W_t h)_w],

    with M each document's length, v its word counts and the hidden biases a scaled by M.
    """
    w_label, w_text = params.weights["label->h"], params.weights["text->h"]
    c, b, a = params.biases["label"], params.biases["text"], params.biases["h"]
    states = jnp.array(list(itertools.product([0.0, 1.0], repeat=a.shape[0])))
    label, text = data["label"], data["text"]
    lengths = jnp.sum(text, axis=1)

    def log_partition(m):
        return jax.nn.logsumexp(
            m * states @ a
            + jnp.sum(jax.nn.softplus(c[None] + states @ w_label.T), axis=1)
            + m * jax.nn.logsumexp(b[None] + states @ w_text.T, axis=1)
        )

    unnormalised = (
        jax.scipy.special.gammaln(lengths + 1)
        - jnp.sum(jax.scipy.special.gammaln(text + 1), axis=1)
        + text @ b
        + label @ c
        + jnp.sum(
            jax.nn.softplus(lengths[:, None] * a[None] + label @ w_label + text @ w_text), axis=1
        )
    )
    return -jnp.mean(unnormalised - jax.vmap(log_partition)(lengths))


def enumerated_negative_log_likelihood(model: mm.Model, params: mm.Params, data: dict) -> float:
    """The same average by the library: ``mm.exact_log_partition`` for each document length."""
    lengths = np.sum(data["text"], axis=1).astype(int)
    total = 0.0
    for m in np.unique(lengths):
        rows = {name: values[lengths == m] for name, values in data.items()}
        log_z = mm.exact_log_partition(model, params, lengths={"text": int(m)})
        total -= float(jnp.sum(mm.log_likelihood(model, params, rows, log_z)))
    return total / len(lengths)


exact_gradient = jax.jit(jax.grad(exact_negative_log_likelihood))


def exact_descent(
    params: mm.Params, data: dict, optimizer: optax.GradientTransformation, num_steps: int
) -> mm.Params:
    """``num_steps`` full-batch steps of ``optimizer`` on the exact gradient."""
    state, lengths = optimizer.init(params), params.lengths
    for _ in range(num_steps):
        grads = exact_gradient(params, data).replace(lengths=lengths)
        updates, state = optimizer.update(grads, state, params)
        params = optax.apply_updates(params, updates).replace(lengths=lengths)
    return params


def _fit(model, data, params, optimizer, epochs=EPOCHS, **options):
    return mm.fit(
        jax.random.key(1),
        model,
        data,
        params=params,
        optimizer=optimizer,
        num_epochs=epochs,
        batch_size=BATCH,
        progress=False,
        **options,
    )


def chain_start_bias(dataset: dict) -> list[dict]:
    """Part 0 (see the module doc)."""
    eye = np.eye(10, dtype=np.float32)
    data = {"label": eye[dataset["train"]["labels"]], "text": dataset["train"]["text"]}
    model = label_tags_model()
    params = model.init(jax.random.key(0), data)
    points = {
        "initial": params,
        "after 60 Adam steps": exact_descent(params, data, optax.adam(0.02), 60),
    }
    estimator = mm.pcd(model, centering=False)
    estimate = jax.jit(estimator.estimate)
    batch = {name: jnp.asarray(values) for name, values in data.items()}
    rows = []
    for point, at in points.items():
        exact = exact_gradient(at, data)
        for start, options in (("data", {"data": batch}), ("mean length", {})):
            chains = estimator.init(jax.random.key(3), at, 1000, **options)
            total = jax.tree.map(jnp.zeros_like, exact)
            for step in range(300):
                grads, chains, _ = estimate(jax.random.key(100 + step), at, chains, batch)
                if step >= 50:  # burn-in
                    total = jax.tree.map(jnp.add, total, grads)
            for group in ("weights", "biases"):
                for name, want in getattr(exact, group).items():
                    got = getattr(total, group)[name] / 250
                    want_norm, got_norm = float(jnp.linalg.norm(want)), float(jnp.linalg.norm(got))
                    rows.append(
                        {
                            "point": point,
                            "chains": start,
                            "parameter": f"{group} {name}",
                            "cosine": float(jnp.vdot(want, got)) / want_norm / got_norm,
                            "relative_length": got_norm / want_norm,
                        }
                    )
    print("\n0. PCD against the exact gradient, by where the chains start")
    print(f"{'parameters':<22}{'chains at':<13}{'parameter':<20}{'cosine':>8}{'length':>8}")
    for r in rows:
        print(
            f"{r['point']:<22}{r['chains']:<13}{r['parameter']:<20}{r['cosine']:>8.3f}"
            f"{r['relative_length']:>8.2f}"
        )
    return rows


def label_and_tags(dataset: dict) -> list[dict]:
    """Part 1 (see the module doc)."""
    train, test = dataset["train"], dataset["test"]
    truth, floor, ceiling = quality.tag_floor_and_ceiling(train, test)
    eye = np.eye(10, dtype=np.float32)
    data = {"label": eye[train["labels"]], "text": train["text"]}
    model = label_tags_model()
    start = model.init(jax.random.key(0), data)
    steps = EPOCHS * (len(train["labels"]) // BATCH)
    check = float(exact_negative_log_likelihood(start, data))
    library = enumerated_negative_log_likelihood(model, start, data)
    assert abs(check - library) < 1e-3, (check, library)

    trained = {
        "mm.fit, default optimizer": _fit(model, data, start, None)[0],
        "mm.fit, default optimizer at learning rate 0.05": _fit(
            model, data, start, mm.default_optimizer(steps, learning_rate=0.05)
        )[0],
        "the same, chains all of the mean length": _fit(
            model,
            data,
            start,
            mm.default_optimizer(steps, learning_rate=0.05),
            chain_start="biases",
        )[0],
        "exact gradient, default optimizer at learning rate 0.05": exact_descent(
            start, data, mm.default_optimizer(steps, learning_rate=0.05), steps
        ),
        "exact gradient, default optimizer at learning rate 0.5": exact_descent(
            start, data, mm.default_optimizer(steps, learning_rate=0.5), steps
        ),
        f"mm.fit, optax.adam({ADAM_RATE})": _fit(model, data, start, optax.adam(ADAM_RATE))[0],
        "exact gradient, optax.adam(0.02) (maximum likelihood)": exact_descent(
            start, data, optax.adam(0.02), 300
        ),
    }
    rows = [{"training": "initial parameters", "nll": check}]
    for name, params in trained.items():
        generated = mm.infer_missing(
            jax.random.key(2), model, params, {"label": eye[test["labels"]]}, num_steps=200
        )["text"]
        rows.append(
            {
                "training": name,
                "nll": float(exact_negative_log_likelihood(params, data)),
                "p_at_5": quality.top_words_precision(np.asarray(generated), truth),
                "text_weights": float(jnp.mean(jnp.abs(params.weights["text->h"]))),
            }
        )
    print(f"\n1. label + tags RBM (exact), tags P@5 floor {floor:.3f}, ceiling {ceiling:.3f}")
    print(f"{'training':<56}{'exact NLL':>10}{'P@5':>7}{'mean |W_text|':>15}")
    for r in rows:
        p5, w = r.get("p_at_5", float("nan")), r.get("text_weights", float("nan"))
        print(f"{r['training']:<56}{r['nll']:>10.3f}{p5:>7.3f}{w:>15.3f}")
    return rows


def image_and_tags(dataset: dict) -> list[dict]:
    """Parts 2 and 3 (see the module doc)."""
    train, test = dataset["train"], dataset["test"]
    truth, floor, ceiling = quality.tag_floor_and_ceiling(train, test)
    labels = {"train": train["labels"], "test": test["labels"]}
    data = {"image": train["image"], "text": train["text"]}
    pixels, words = train["image"].shape[1], train["text"].shape[1]
    _, _, joint = dataset["hidden"]
    rbm = mm.Model(
        layers={
            "image": mm.Gaussian(pixels),
            "text": mm.ReplicatedSoftmax(words),
            "h": mm.Bernoulli(joint),
        },
        edges=(("image", "h"), ("text", "h")),
    )
    dbm = quality.paired_model(dataset)
    rows = []
    for name, model, start in (
        ("RBM image + tags", rbm, rbm.init(jax.random.key(0), data)),
        ("multimodal DBM", dbm, mm.pretrain(jax.random.key(0), dbm, data, progress=False)),
    ):
        for optimizer_name, optimizer in (
            ("default", None),
            (f"optax.adam({ADAM_RATE})", optax.adam(ADAM_RATE)),
        ):
            params, history = _fit(model, data, start, optimizer, epochs=30)
            generated = mm.infer_missing(jax.random.key(2), model, params, {"image": test["image"]})
            row = {
                "model": name,
                "optimizer": optimizer_name,
                "p_at_5": quality.top_words_precision(np.asarray(generated["text"]), truth),
                "spread": history[-1]["spread"],
            }
            for observed in (("image",), ("image", "text")):
                features = {
                    split: mm.represent(model, params, {m: part[m] for m in observed})
                    for split, part in (("train", train), ("test", test))
                }
                row["probe " + " + ".join(observed)] = quality.probe(features, labels)
            rows.append(row)
    print(f"\n2-3. image + tags, 30 epochs, tags P@5 floor {floor:.3f}, ceiling {ceiling:.3f}")
    for r in rows:
        spread = ", ".join(f"{k} {v:.3f}" for k, v in r["spread"].items())
        print(
            f"{r['model']:<18}{r['optimizer']:<18} P@5 {r['p_at_5']:.3f}  probe image "
            f"{r['probe image']:.3f}, image + text {r['probe image + text']:.3f}; spread {spread}"
        )
    return rows


def class_slope(generated: np.ndarray, labels: np.ndarray, train: dict) -> float:
    """The least-squares slope of the generated tags' class-averaged log-ratios on the data's:

        d_cw = log gbar_cw - log gbar_w,   t_cw = log f_cw - log f_w,   slope = <d, t> / <t, t>,

    with ``gbar_cw`` the mean generated probability of word w over the examples of class c,
    ``gbar_w`` over all, ``f_cw`` and ``f_w`` the training words' frequencies in class c and
    overall (smoothed by 1e-4)."""
    classes = np.unique(train["labels"])
    words = train["text"]
    overall = words.sum(axis=0) / words.sum()
    by_class = np.stack([words[train["labels"] == c].sum(axis=0) for c in classes])
    by_class = by_class / by_class.sum(axis=1, keepdims=True)
    target = np.log(by_class + 1e-4) - np.log(overall + 1e-4)
    mean = generated.mean(axis=0)
    generated_by_class = np.stack([generated[labels == c].mean(axis=0) for c in classes])
    deviation = np.log(generated_by_class + 1e-4) - np.log(mean + 1e-4)
    return float(np.sum(deviation * target) / np.sum(target * target))


def text_depth(dataset: dict) -> list[dict]:
    """Part 4 (see the module doc)."""
    train, test = dataset["train"], dataset["test"]
    truth, floor, ceiling = quality.tag_floor_and_ceiling(train, test)
    data = {"image": train["image"], "text": train["text"]}
    image_hidden, text_hidden, joint = dataset["hidden"]
    rows = []
    for pathway in (text_hidden, text_hidden[:1], [2 * text_hidden[0]]):
        for seed in (10, 11):
            model = quality.paired_model({**dataset, "hidden": (image_hidden, pathway, joint)})
            params = quality.trained_with_defaults(jax.random.key(seed), model, data, EPOCHS)
            generated = mm.infer_missing(
                jax.random.key(12), model, params, {"image": test["image"]}
            )
            row = {
                "text pathway": list(pathway),
                "seed": seed,
                "p_at_5": quality.top_words_precision(np.asarray(generated["text"]), truth),
                "slope": class_slope(np.asarray(generated["text"]), test["labels"], train),
            }
            if len(pathway) > 1:
                means = mm.mean_field(model, params, {"image": test["image"], "text": test["text"]})
                for layer in ("text_h1", "text_h2", "joint", "image_h2"):
                    clamped = mm.infer_missing(
                        jax.random.key(12), model, params, {layer: means[layer]}
                    )
                    row[f"slope, {layer} clamped"] = class_slope(
                        np.asarray(clamped["text"]), test["labels"], train
                    )
            rows.append(row)
    probabilities = mm.metrics.logistic_probe(train["image"], train["labels"], test["image"])
    present = train["text"] > 0
    by_class = np.stack([present[train["labels"] == c].mean(axis=0) for c in range(10)])
    reference = probabilities @ by_class
    print(
        f"\n4. text pathway depth, {EPOCHS} epochs, "
        f"tags P@5 floor {floor:.3f}, ceiling {ceiling:.3f}"
    )
    print(
        f"logistic regression on the image + class tag frequencies: P@5 "
        f"{quality.top_words_precision(reference, truth):.3f}, class slope "
        f"{class_slope(reference, test['labels'], train):.3f}"
    )
    for r in rows:
        clamped = ", ".join(
            f"{k.split(', ')[1].removesuffix(' clamped')} {v:.3f}"
            for k, v in r.items()
            if k.endswith("clamped")
        )
        print(
            f"text {r['text pathway']!s:<10} seed {r['seed']}: P@5 {r['p_at_5']:.3f}, "
            f"class slope {r['slope']:.3f}" + (f"; clamped: {clamped}" if clamped else "")
        )
    return rows


def main() -> dict:
    print(f"JAX {jax.__version__} on {jax.devices()}")
    dataset = next(
        d for d in quality.paired_datasets(quality.SIZES["full"]) if d["name"] == "digits_tags"
    )
    return {
        "chain_start": chain_start_bias(dataset),
        "label_and_tags": label_and_tags(dataset),
        "image_and_tags": image_and_tags(dataset),
        "text_depth": text_depth(dataset),
    }


if __name__ == "__main__":
    main()
