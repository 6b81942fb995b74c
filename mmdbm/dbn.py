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
  sampling in the joint RBM, with those tops clamped, draws the missing pathway tops; each
  draw is carried down to the missing visible layer by ancestral sampling through
  ``p(h_{k-1} | h_k)`` of each RBM below, and the conditional means along the way are
  averaged over the chain (word probabilities for text).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp

from mmdbm.energy import bias_only_args, conditional_args, count_totals
from mmdbm.graph import Model
from mmdbm.inference.gibbs import second_half_mean
from mmdbm.inference.missing import NUM_CHAINS
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
      num_epochs: epochs of CD-1 for each RBM. With 10, the multimodal DBN's representation of
        an image alone collapses on the smaller paired sets (``digits_tags``: spread 0.001
        across test images) and the Gaussian views it generates stay near the training mean
        (``benchmarks/dbn_pretraining.py``).
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


class _Block(NamedTuple):
    """One RBM of the stack, as a static argument: its graph, hidden layer and layers below."""

    block: Model
    upper: str
    lowers: tuple[str, ...]


def _means_and_draws(
    key: Array,
    block: Model,
    params: Params,
    state: Mapping[str, Array],
    names: Sequence[str],
    lengths: Mapping[str, Array],
    drawn: Collection[str],
) -> tuple[dict[str, Array], dict[str, Array]]:
    """The conditional means of the layers ``names`` of ``block`` given ``state`` (word
    probabilities for a count layer), and one draw of those of them in ``drawn`` (``lengths``
    words for a count layer)."""
    means, draws = {}, {}
    for name, name_key in zip(names, jax.random.split(key, len(names)), strict=True):
        unit = block.layers[name]
        args = conditional_args(block, params, state, name, count_totals(block, state, lengths))
        if name in drawn:
            draws[name] = unit.sample(name_key, *args)
        if isinstance(unit, ReplicatedSoftmax):
            args = (*args[:3], jnp.ones(()))
        means[name] = unit.mean(*args)
    return means, draws


@partial(jax.jit, static_argnames=("top", "down", "num_steps", "num_chains"))
def _conditional_means(
    keys: Array,
    top: _Block,
    down: tuple[_Block, ...],
    params: tuple[Params, ...],
    present: dict[str, Array],
    num_steps: int,
    num_chains: int,
) -> dict[str, Array]:
    """Per example, the means of the top layer and of every missing layer given the
    ``present`` pathway tops, under the DBN's generative model.

    An alternating Gibbs chain runs in the top RBM with ``present`` clamped. At each step of
    the chain's second half, the missing pathway tops it drew are carried down by ancestral
    sampling through the RBMs ``down`` (each layer drawn from ``p(lower | upper)`` of its
    RBM), and the conditional means of the top layer given the chain and of every missing
    layer given the draw above it are averaged, and then over ``num_chains`` such chains: a
    Rao-Blackwellised estimate of ``E[layer | present]``.
    """
    top_params, *down_params = params
    missing = tuple(name for name in top.lowers if name not in present)
    carried_down = {rbm.upper for rbm in down}  # the only layers of the down-pass drawn
    lengths = dict(top_params.lengths)

    def one_chain(key: Array, present_one: dict[str, Array]) -> dict[str, Array]:
        start_key, chain_key = jax.random.split(key)
        totals = count_totals(top.block, present_one, lengths)
        state = {
            **present_one,
            **{
                name: top.block.layers[name].sample(
                    name_key, *bias_only_args(top.block, top_params, name, totals)
                )
                for name, name_key in zip(
                    missing, jax.random.split(start_key, len(missing)), strict=True
                )
            },
        }

        def step(state: dict[str, Array], key: Array) -> tuple[dict[str, Array], dict]:
            top_key, lower_key, *down_keys = jax.random.split(key, 2 + len(down))
            names = (top.upper,)
            means, draws = _means_and_draws(
                top_key, top.block, top_params, state, names, lengths, names
            )
            lower_means, lower_draws = _means_and_draws(
                lower_key, top.block, top_params, draws, missing, lengths, missing
            )
            means |= lower_means
            drawn = dict(lower_draws)
            for rbm, rbm_params, rbm_key in zip(down, down_params, down_keys, strict=True):
                rbm_means, rbm_draws = _means_and_draws(
                    rbm_key,
                    rbm.block,
                    rbm_params,
                    drawn,
                    rbm.lowers,
                    dict(rbm_params.lengths),
                    carried_down,
                )
                means |= rbm_means
                drawn |= rbm_draws
            return {**state, **lower_draws}, means

        return second_half_mean(step, state, jax.random.split(chain_key, num_steps))

    def one_example(key: Array, present_one: dict[str, Array]) -> dict[str, Array]:
        chains = jax.vmap(one_chain, in_axes=(0, None))(
            jax.random.split(key, num_chains), present_one
        )
        return jax.tree.map(lambda means: jnp.mean(means, axis=0), chains)

    return jax.vmap(one_example)(keys, present)


def infer_missing(
    rng_key: Array,
    dbn: DeepBeliefNet,
    observed: Mapping[str, Array],
    *,
    num_steps: int = 100,
    num_chains: int = NUM_CHAINS,
) -> dict[str, Array]:
    """The means of every layer given the ``observed`` visible layers, under the DBN.

    The present pathways are passed up (``up_pass``). If a pathway is missing, Gibbs sampling
    in the top RBM with the present pathway tops clamped draws the missing tops, and each draw
    is carried down the missing pathway by ancestral sampling, as the DBN generates; over the
    second half of the ``num_steps`` steps, the conditional means of the top layer and of every
    missing layer given the draws above them are averaged, and then over ``num_chains`` chains
    (as ``mm.infer_missing`` does, and for the same reason). (Passing means down instead of
    draws is not the DBN's conditional: on ``mnist_tags`` it ranks the tags far below their
    frequencies, ``benchmarks/dbn_pretraining.py``.)

    Returns:
      ``{layer: Array[b, n]}`` for every layer, the missing visible layers included: word
      probabilities (rows sum to 1) for Replicated Softmax layers, means otherwise.
    """
    check_count("num_steps", num_steps)
    check_count("num_chains", num_chains)
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
        down = tuple(rbm for rbm in reversed(dbn.rbms[:-1]) if rbm.upper not in means)
        num_examples = next(iter(present.values())).shape[0]
        means |= _conditional_means(
            jax.random.split(rng_key, num_examples),
            _Block(top.block, top.upper, top.lowers),
            tuple(_Block(rbm.block, rbm.upper, rbm.lowers) for rbm in down),
            (top.params, *(rbm.params for rbm in down)),
            present,
            num_steps,
            num_chains,
        )
    return means


def represent(
    rng_key: Array,
    dbn: DeepBeliefNet,
    observed: Mapping[str, Array],
    *,
    num_steps: int = 100,
    num_chains: int = NUM_CHAINS,
) -> Array:
    """The top layer's means given ``observed``: the up-pass when every modality is present,
    else averaged over Gibbs chains in the top RBM that fill in the missing pathway tops."""
    return infer_missing(rng_key, dbn, observed, num_steps=num_steps, num_chains=num_chains)[
        dbn.top.upper
    ]
