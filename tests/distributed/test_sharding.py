"""Sharding over devices, checked on eight forced CPU devices in a fresh process (the device
count is fixed when JAX starts, so it cannot be changed inside this test process)."""

import subprocess
import sys
from pathlib import Path

import jax

import mmdbm as mm
from mmdbm.distributed import check_divisible, data_mesh

CHECKS = Path(__file__).with_name("sharded_checks.py")


def test_sharded_training_sampling_and_ais_match_one_device():
    done = subprocess.run(
        [sys.executable, str(CHECKS)], capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "sharded checks passed" in done.stdout


def test_a_one_device_mesh_takes_any_count():
    mesh = data_mesh()
    check_divisible("num_chains", 7, mesh)  # one CPU device in this process: anything splits
    assert mesh.shape == {"data": 1}
    model = mm.rbm(mm.Bernoulli(3), 2)
    samples = mm.sample(
        jax.random.key(0),
        model,
        model.init(jax.random.key(1)),
        num_chains=5,
        num_steps=1,
        mesh=mesh,
    )
    assert samples["v"].shape == (5, 3)
