"""Run in a process with eight forced CPU devices (see test_sharding.py): sharded training,
sampling and AIS agree with one device, and the chains really are split over eight."""

import os

os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=8"
os.environ["JAX_PLATFORMS"] = "cpu"

import jax
import numpy as np

import mmdbm as mm
from mmdbm.distributed import data_mesh, replicate, sharded
from mmdbm.inference.gibbs import shard_chains

jax.config.update("jax_numpy_rank_promotion", "raise")


def main() -> None:
    assert jax.device_count() == 8, jax.devices()
    mesh = data_mesh()
    model = mm.dbm(mm.Bernoulli(12), [8, 4])
    data = {"v": (np.random.default_rng(0).random((64, 12)) < 0.3).astype(np.float32)}
    options = {"num_epochs": 2, "batch_size": 16, "num_chains": 32, "progress": False}
    alone, _ = mm.fit(jax.random.key(0), model, data, **options)
    together, _ = mm.fit(jax.random.key(0), model, data, mesh=mesh, **options)
    for key in alone.weights:
        np.testing.assert_allclose(together.weights[key], alone.weights[key], rtol=1e-4, atol=1e-5)

    estimator, optimizer = mm.pcd(model), mm.default_optimizer(10)
    state = mm.TrainState.create(jax.random.key(3), alone, optimizer, estimator, num_chains=32)
    state = replicate(state, mesh).replace(chains=shard_chains(state.chains, mesh))
    state, _, _ = mm.train_epoch(
        state,
        replicate(data, mesh),
        estimator=estimator,
        optimizer=optimizer,
        batch_size=16,
        batch_sharding=sharded(mesh),
    )
    assert len(state.chains.inner.layers["h1"].sharding.device_set) == 8
    assert state.chains.offsets["h1"].sharding.is_fully_replicated
    assert state.params.weights["v->h1"].sharding.is_fully_replicated

    samples = mm.sample(jax.random.key(1), model, alone, num_chains=64, num_steps=5, mesh=mesh)
    assert len(samples["v"].sharding.device_set) == 8, samples["v"].sharding
    reference = mm.sample(jax.random.key(1), model, alone, num_chains=64, num_steps=5)
    np.testing.assert_array_equal(samples["v"], reference["v"])

    sharded_ais = mm.ais(jax.random.key(2), model, alone, num_chains=16, num_betas=50, mesh=mesh)
    assert len(sharded_ais.log_weights.sharding.device_set) == 8
    plain_ais = mm.ais(jax.random.key(2), model, alone, num_chains=16, num_betas=50)
    np.testing.assert_allclose(sharded_ais.log_weights, plain_ais.log_weights, rtol=1e-4, atol=1e-5)
    rsm = mm.rbm(mm.ReplicatedSoftmax(6), 4)
    rsm_params = rsm.init(jax.random.key(4))
    lengths = {"v": [2, 5, 9]}
    sharded_lengths = mm.ais_over_lengths(
        jax.random.key(5), rsm, rsm_params, lengths, num_chains=16, num_betas=50, mesh=mesh
    )
    assert len(sharded_lengths.log_weights.sharding.device_set) == 8
    plain_lengths = mm.ais_over_lengths(
        jax.random.key(5), rsm, rsm_params, lengths, num_chains=16, num_betas=50
    )
    np.testing.assert_allclose(
        sharded_lengths.log_weights, plain_lengths.log_weights, rtol=1e-4, atol=1e-5
    )
    try:
        mm.sample(jax.random.key(1), model, alone, num_chains=12, num_steps=1, mesh=mesh)
    except ValueError as error:
        assert "num_chains=12 does not split evenly over the mesh's 8 devices" in str(error)
    else:
        raise AssertionError("12 chains on 8 devices were not refused")
    print("sharded checks passed")


if __name__ == "__main__":
    main()
