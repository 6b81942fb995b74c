"""Deep belief nets over the graph of a DBM, and the multimodal DBN.

A deep belief net (Hinton, Osindero & Teh 2006) has the layers of a DBM but is another model:
its top RBM is undirected, every layer below is generated top-down by a sigmoid belief net,
and inference goes bottom-up through recognition weights. Trained greedily, each RBM of the
stack on the means of the layer below under the RBM before (plain CD-1, no doubling), it is
the multimodal DBN of Srivastava & Salakhutdinov (2012): one stack per pathway, topped by a
joint RBM over the pathway tops.

* Representation, the up-pass: ``q(h_k | h_{k-1})`` of each RBM in turn, means throughout,
  up to the joint layer.
* A missing modality: the present pathways are passed up to their tops; alternating Gibbs
  sampling in the joint RBM, with those tops clamped, draws the missing pathway tops; then
  the down-pass ``p(h_{k-1} | h_k)`` of each RBM below carries them to the missing visible
  layer, whose means are returned (word probabilities for text).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from functools import partial

import jax
import jax.numpy as jnp

from mmdbm.energy import bias_only_args, conditional_args, count_totals
from mmdbm.graph import Model
from mmdbm.params import Params
from mmdbm.training.optimizer import PRETRAIN_UNIT_RATES
from mmdbm.training.pretrain import TrainedRBM, train_stack, upper_means
from mmdbm.units import ReplicatedSoftmax
from mmdbm.validation import check_count, check_layers, check_training_data

Array = jax.Array


@dataclasses.dataclass(frozen=True)
class DeepBeliefNet:
    """A greedily trained stack: ``rbms`` bottom up, the last one the top (joint) RBM."""

    model: Model
    rbms: tuple[TrainedRBM, ...]

    @property
    def top(self) -> TrainedRBM:
        return self.rbms[-1]


def train_dbn(
    rng_key: Array,
    model: Model,
    data: Mapping[str, Array],
    *,
    num_epochs: int = 50,
    batch_size: int = 100,
    learning_rate: float | Mapping[str, float] = 0.01,
    momentum: float = 0.9,
    weight_decay: float = 2e-4,
    centering: bool = True,
    progress: bool = True,
) -> DeepBeliefNet:
    """Train a (multimodal) DBN on ``data``: one RBM per hidden layer of ``model``, bottom up,
    by CD-1.

    Args:
      rng_key: a JAX PRNG key.
      model: a DBM or multimodal DBM graph (``mm.dbm``, ``mm.multimodal_dbm``).
      data: ``{visible layer: Array[num_examples, n]}`` for every visible layer.
      num_epochs: epochs of CD-1 for each RBM. With 10, the multimodal DBN's image-only
        queries on the smaller paired sets score far below its joint ones (``digits_tags``
        0.731 against 0.912; ``benchmarks/dbn_pretraining.py``).
      batch_size: examples per update.
      learning_rate: SGD learning rate of every RBM, or ``{upper layer: rate}``.
      momentum: SGD momentum.
      weight_decay: L2 weight decay of the weights.
      centering: center each RBM's gradients (``mm.training.estimators.centered``).
      progress: show a progress bar over the RBMs.
    """
    data = check_training_data(model, data, batch_size)
    check_count("num_epochs", num_epochs)
    init_key, rng_key = jax.random.split(rng_key)
    rbms = train_stack(
        rng_key,
        model,
        data,
        doubling=False,
        num_epochs=num_epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        momentum=momentum,
        weight_decay=weight_decay,
        params=model.init(init_key, data),
        centering=centering,
        unit_rates=PRETRAIN_UNIT_RATES,
        progress=progress,
    )
    return DeepBeliefNet(model, tuple(rbms))


def up_pass(dbn: DeepBeliefNet, observed: Mapping[str, Array]) -> dict[str, Array]:
    """Means of every layer the up-pass reaches from ``observed``: each RBM's hidden means
    given its layers below, wherever all of those are known."""
    means = {name: jnp.asarray(value, jnp.float32) for name, value in observed.items()}
    for rbm in dbn.rbms:
        if all(name in means for name in rbm.lowers):
            means[rbm.upper] = upper_means(rbm, {name: means[name] for name in rbm.lowers})
    return means


def _args(block: Model, params: Params, state: Mapping[str, Array], name: str):
    totals = count_totals(block, state, dict(params.lengths))
    return conditional_args(block, params, state, name, totals)


@partial(jax.jit, static_argnames=("block", "upper", "num_steps"))
def _top_gibbs(
    keys: Array,
    block: Model,
    upper: str,
    params: Params,
    present: dict[str, Array],
    num_steps: int,
) -> dict[str, Array]:
    """Per example, an alternating Gibbs chain in the top RBM ``block`` with the ``present``
    layers clamped; returns the means of the missing layers below and of the top layer, given
    the chain's last state."""
    missing = [name for name in block.layers if name != upper and name not in present]

    def one_example(key: Array, present_one: dict[str, Array]) -> dict[str, Array]:
        start_keys = jax.random.split(key, len(missing) + 1)
        totals = count_totals(block, present_one, dict(params.lengths))
        state = {
            **present_one,
            **{
                name: block.layers[name].sample(k, *bias_only_args(block, params, name, totals))
                for name, k in zip(missing, start_keys[1:], strict=True)
            },
        }

        def step(state: dict[str, Array], key: Array) -> tuple[dict[str, Array], None]:
            upper_key, *lower_keys = jax.random.split(key, len(missing) + 1)
            top = block.layers[upper].sample(upper_key, *_args(block, params, state, upper))
            drawn = {
                name: block.layers[name].sample(k, *_args(block, params, {upper: top}, name))
                for name, k in zip(missing, lower_keys, strict=True)
            }
            return {**state, **drawn}, None

        state, _ = jax.lax.scan(step, state, jax.random.split(start_keys[0], num_steps))
        top = block.layers[upper].mean(*_args(block, params, state, upper))
        return {
            upper: top,
            **{
                name: block.layers[name].mean(*_args(block, params, {upper: top}, name))
                for name in missing
            },
        }

    return jax.vmap(one_example)(keys, present)


def infer_missing(
    rng_key: Array, dbn: DeepBeliefNet, observed: Mapping[str, Array], *, num_steps: int = 100
) -> dict[str, Array]:
    """The means of every layer given the ``observed`` visible layers: up-pass, Gibbs in the
    top RBM for the missing pathway tops, down-pass into the missing pathways.

    Returns:
      ``{layer: Array[b, n]}`` for every layer reached, the missing visible layers included:
      word probabilities (rows sum to 1) for Replicated Softmax layers, means otherwise.
    """
    check_count("num_steps", num_steps)
    observed = check_layers(dbn.model, observed, what="observed", batched=True)
    hidden = [name for name in observed if name not in dbn.model.visible]
    if not observed or hidden:
        raise ValueError(
            f"observed: give visible layers of {list(dbn.model.visible)} only, got {list(observed)}"
        )
    means = up_pass(dbn, observed)
    top = dbn.top
    present = {name: means[name] for name in top.lowers if name in means}
    if len(present) < len(top.lowers):
        num_examples = next(iter(present.values())).shape[0]
        keys = jax.random.split(rng_key, num_examples)
        means.update(_top_gibbs(keys, top.block, top.upper, top.params, present, num_steps))
    for rbm in reversed(dbn.rbms[:-1]):
        if rbm.upper in means:
            for name in rbm.lowers:
                if name not in means:
                    means[name] = _down(rbm, means[rbm.upper], name)
    return means


def _down(rbm: TrainedRBM, upper: Array, name: str) -> Array:
    """``E[name | upper]`` of every row, as word probabilities for a count layer."""
    unit = rbm.block.layers[name]
    totals = {name: jnp.ones(())} if isinstance(unit, ReplicatedSoftmax) else {}

    def one(upper_one: Array) -> Array:
        args = conditional_args(rbm.block, rbm.params, {rbm.upper: upper_one}, name, totals)
        return unit.mean(*args)

    return jax.vmap(one)(upper)


def represent(
    rng_key: Array, dbn: DeepBeliefNet, observed: Mapping[str, Array], *, num_steps: int = 100
) -> Array:
    """The top layer's means given ``observed``: the up-pass when every modality is present,
    else after Gibbs in the top RBM has filled in the missing pathway tops."""
    return infer_missing(rng_key, dbn, observed, num_steps=num_steps)[dbn.top.upper]
