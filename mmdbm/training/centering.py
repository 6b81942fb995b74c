"""Centering: the gradient of a Boltzmann machine in coordinates where every layer is centered.

In the centered parameterisation (Montavon & Müller 2012, "Deep Boltzmann machines and the
centering trick"; Melchior, Fischer & Wiskott 2016, "How to center deep Boltzmann machines")
each layer's statistic enters the couplings less an offset ``mu_l``,

    E(x) = sum_l E_l(x_l; c_l) - sum_(a,b) (s_a(x_a) - M_a mu_a)^T W_ab (s_b(x_b) - M_b mu_b),

(``M`` the document length of a Replicated Softmax layer, 1 otherwise: its offset is a word
distribution), with the offsets moving averages of the data-phase means of the statistics.
Expanding the couplings shows that this is the standard model with the biases

    b_l = c_l - scale_l * sum_{m ~ l} W_lm mu_m,   scale_l = sigma_l (Gaussian), else 1,

and the same weights (terms that depend on the lengths M alone drop out of the conditional
distributions given M; for a layer whose bias scales with M, see ``_coupled_offsets``). So
``Params`` stay standard, every energy, sampler and estimator works on them unchanged, and
changing the offsets changes no distribution. What centering changes is the direction of
descent: a gradient step taken in the centered coordinates ``theta_c`` is, in the standard
ones,

    delta theta = J J^T g,   J = d theta / d theta_c,

with ``g`` the standard gradient: a linear map of ``g`` given the offsets and the weights
(``J^T g`` is the centered gradient, e.g. ``<(s_a - mu_a)(s_b - mu_b)^T>_data - <.>_model``
for the weights; ``J`` carries the step back). ``centered_gradient`` computes it by automatic
differentiation of ``standard_params``, the map above, for every unit type and graph.
``mmdbm.training.estimators.centered`` wraps an estimator so that its gradients are centered
and its state carries the offsets, which therefore checkpoint and resume with the rest of the
training state.
"""

from __future__ import annotations

from collections.abc import Mapping

import jax
import jax.numpy as jnp

from mmdbm.energy import bias_only_args
from mmdbm.graph import Model
from mmdbm.params import Params, edge_key
from mmdbm.units import Gaussian, ReplicatedSoftmax, learns_sigma
from mmdbm.validation import sampled_count_layers

Array = jax.Array


def _coupled_offsets(model: Model, params: Params, offsets: Mapping[str, Array]) -> dict:
    """``scale_l * sum_{m ~ l} W_lm mu_m`` for every layer: what centering moves its bias by.

    A Bernoulli layer next to a Replicated Softmax layer has its bias multiplied by the length
    M, its coupling to that layer's ``M mu`` too, but not its other couplings: those are
    divided by the layer's default length (``Params.lengths``), so the map is exact for
    documents of that length and, for others, a slightly different centering."""
    lengths = dict(params.lengths)
    shift = {name: jnp.zeros_like(bias) for name, bias in params.biases.items()}

    def add(name: str, other: str, value: Array) -> None:
        count_layer = model.count_layer_of.get(name)
        if count_layer is not None and other != count_layer:
            value = value / lengths.get(count_layer, 1)
        shift[name] = shift[name] + value

    for lower, upper in model.edges:
        weights = params.weights[edge_key(lower, upper)]
        add(lower, upper, weights @ offsets[upper])
        add(upper, lower, offsets[lower] @ weights)
    for name, unit in model.layers.items():
        if isinstance(unit, Gaussian):
            shift[name] = shift[name] * jnp.exp(params.log_sigma[name])
    return shift


def standard_params(model: Model, centered: Params, offsets: Mapping[str, Array]) -> Params:
    """The standard parameters of a centered model: ``b_l = c_l - scale_l sum_m W_lm mu_m``."""
    shift = _coupled_offsets(model, centered, offsets)
    return centered.replace(
        biases={name: bias - shift[name] for name, bias in centered.biases.items()}
    )


def centered_params(model: Model, params: Params, offsets: Mapping[str, Array]) -> Params:
    """The centered parameters of a standard model (the inverse of ``standard_params``)."""
    shift = _coupled_offsets(model, params, offsets)
    return params.replace(biases={name: bias + shift[name] for name, bias in params.biases.items()})


def _fixed_sigmas_still(model: Model, tree: Params) -> Params:
    return tree.replace(
        log_sigma={
            name: value if learns_sigma(model.layers[name]) else jnp.zeros_like(value)
            for name, value in tree.log_sigma.items()
        }
    )


def centered_gradient(
    model: Model, params: Params, grads: Params, offsets: Mapping[str, Array]
) -> Params:
    """``J J^T g``: the standard gradient ``grads`` turned into the step that the centered
    coordinates would take, in standard coordinates (see the module doc). The log-sigmas of
    layers that do not learn sigma stay constants of the map."""
    centered = centered_params(model, params, offsets)

    def to_standard(c: Params) -> Params:
        return standard_params(model, c, offsets)

    _, pull_back = jax.vjp(to_standard, centered)
    (centered_grads,) = pull_back(grads)
    _, step = jax.jvp(to_standard, (centered,), (_fixed_sigmas_still(model, centered_grads),))
    return _fixed_sigmas_still(model, step)


def offset_statistic(model: Model, params: Params, name: str, mean: Array) -> Array:
    """The statistic an offset centers, from one example's mean of a layer: ``E[s(x)]``, per
    word (``E[x] / M``) for a Replicated Softmax layer."""
    unit = model.layers[name]
    statistic = unit.statistic(mean, params.log_sigma.get(name))
    if isinstance(unit, ReplicatedSoftmax):
        return statistic / jnp.maximum(jnp.sum(mean), 1.0)
    return statistic


def initial_offsets(model: Model, params: Params) -> dict[str, Array]:
    """Each layer's statistic under its biases alone: the data means of visible layers whose
    biases ``Model.init`` fitted to data, one half for hidden layers with zero biases."""
    totals = {name: jnp.ones(()) for name in sampled_count_layers(model, {})}
    return {
        name: offset_statistic(
            model, params, name, unit.mean(*bias_only_args(model, params, name, totals))
        )
        for name, unit in model.layers.items()
    }
