"""Independent references for tiny models, in NumPy float64.

Written from the energy in DESIGN.md alone: every discrete layer is enumerated jointly (binary
vectors, count vectors with their multinomial coefficients) and Gaussian layers are integrated
by Gauss-Hermite quadrature. Nothing here calls the library's energies, fields or enumeration.
"""

from __future__ import annotations

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
from numpy.polynomial.hermite import hermgauss

import mmdbm as mm

_NODES, _WEIGHTS = hermgauss(160)


def random_params(model: mm.Model, seed: int, weight_scale: float = 1.0) -> mm.Params:
    """Parameters with N(0, weight_scale^2) weights, N(0, 0.25) biases, N(0, 0.09) log sigmas."""
    rng = np.random.default_rng(seed)
    base = model.init(jax.random.key(seed))

    def draw(arrays: dict, scale: float) -> dict:
        return {
            k: jnp.asarray(scale * rng.standard_normal(v.shape), jnp.float32)
            for k, v in arrays.items()
        }

    return base.replace(
        weights=draw(base.weights, weight_scale),
        biases=draw(base.biases, 0.5),
        log_sigma=draw(base.log_sigma, 0.3),
    )


def _np(params: mm.Params) -> dict:
    return {
        "W": {k: np.asarray(v, np.float64) for k, v in params.weights.items()},
        "b": {k: np.asarray(v, np.float64) for k, v in params.biases.items()},
        "s": {k: np.exp(np.asarray(v, np.float64)) for k, v in params.log_sigma.items()},
    }


def states_of(unit, total: int | None) -> list[np.ndarray]:
    """Every configuration of a discrete layer, by direct product."""
    if isinstance(unit, mm.Bernoulli):
        return [np.array(bits, float) for bits in itertools.product((0, 1), repeat=unit.n)]
    return [
        np.array(c, float)
        for c in itertools.product(range(total + 1), repeat=unit.n)
        if sum(c) == total
    ]


def log_coefficient(counts: np.ndarray) -> float:
    return math.lgamma(counts.sum() + 1) - sum(math.lgamma(c + 1) for c in counts)


def _statistic(model, p, name, x):
    return x / p["s"][name] if isinstance(model.layers[name], mm.Gaussian) else x


def _bias(model, p, name, config, lengths):
    """b_l, times M for a Bernoulli layer next to a Replicated Softmax layer."""
    bias = p["b"][name]
    if not isinstance(model.layers[name], mm.Bernoulli):
        return bias
    for other in model.neighbours(name):
        if isinstance(model.layers[other], mm.ReplicatedSoftmax):
            return bias * lengths[other]
    return bias


def discrete_joint(model: mm.Model, params: mm.Params, lengths: dict | None = None):
    """Log-weights ``log p*(d)`` of every configuration ``d`` of the discrete layers.

    Gaussian layers are integrated out (each must have only discrete neighbours). Returns
    ``(names, configs, log_weights)`` with ``configs`` a list of ``{layer: vector}``.
    """
    lengths = lengths or {}
    p = _np(params)
    names = [n for n, u in model.layers.items() if not isinstance(u, mm.Gaussian)]
    gaussians = [n for n, u in model.layers.items() if isinstance(u, mm.Gaussian)]
    per_layer = [states_of(model.layers[n], lengths.get(n)) for n in names]
    configs, log_weights = [], []
    for combo in itertools.product(*per_layer):
        config = dict(zip(names, combo, strict=True))
        log_w = 0.0
        for name, x in config.items():
            log_w += _bias(model, p, name, config, lengths) @ x
            if isinstance(model.layers[name], mm.ReplicatedSoftmax):
                log_w += log_coefficient(x)
        for a, b in model.edges:
            if a in config and b in config:
                log_w += config[a] @ p["W"][f"{a}->{b}"] @ config[b]
        for g in gaussians:
            phi = sum(
                p["W"][f"{g}->{o}"] @ config[o]
                if f"{g}->{o}" in p["W"]
                else config[o] @ p["W"][f"{o}->{g}"]
                for o in model.neighbours(g)
            )
            sigma, bias = p["s"][g], p["b"][g]
            # integral of exp(-(x - b)^2 / (2 sigma^2) + x phi / sigma) dx, x = b + sqrt(2) sigma t
            integrand = np.exp(np.sqrt(2) * _NODES[:, None] * phi[None, :] + bias * phi / sigma)
            log_w += np.sum(np.log(np.sqrt(2) * sigma * (_WEIGHTS @ integrand)))
        configs.append(config)
        log_weights.append(log_w)
    return names, configs, np.array(log_weights)


def log_partition(model, params, lengths=None) -> float:
    """``log Z`` by brute force."""
    _, _, log_weights = discrete_joint(model, params, lengths)
    return float(np.logaddexp.reduce(log_weights))


def joint_energy(model: mm.Model, params: mm.Params, state: dict) -> float:
    """``E(x)`` of a full configuration, from the formula."""
    p = _np(params)
    state = {k: np.asarray(v, np.float64) for k, v in state.items()}
    lengths = {
        n: state[n].sum() for n, u in model.layers.items() if isinstance(u, mm.ReplicatedSoftmax)
    }
    value = 0.0
    for name, x in state.items():
        if isinstance(model.layers[name], mm.Gaussian):
            value += np.sum((x - p["b"][name]) ** 2 / (2 * p["s"][name] ** 2))
        else:
            value -= _bias(model, p, name, state, lengths) @ x
    for a, b in model.edges:
        value -= (
            _statistic(model, p, a, state[a])
            @ p["W"][f"{a}->{b}"]
            @ _statistic(model, p, b, state[b])
        )
    return float(value)


def cell_of(names: list[str], configs: list[dict]) -> dict:
    """``{tuple of concatenated values: index}`` over the brute-force configurations."""
    return {
        tuple(np.concatenate([c[n] for n in names]).astype(int)): i for i, c in enumerate(configs)
    }
