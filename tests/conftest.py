"""Test setup: JAX on the CPU, strict about implicit rank and dtype promotion, and no disk
cache of compiled programs (the command line and the notebooks would otherwise turn it on; the
tests of the cache give it a directory of their own)."""

import os

os.environ["JAX_PLATFORMS"] = "cpu"
os.environ["MMDBM_COMPILATION_CACHE"] = "off"

import jax
import pytest

jax.config.update("jax_numpy_rank_promotion", "raise")
jax.config.update("jax_numpy_dtype_promotion", "strict")


@pytest.fixture(autouse=True, scope="module")
def fresh_compilation_caches():
    """Drop every compiled program after each test module. Each one holds mappings of its
    machine code, and the whole suite in one process would otherwise run into the kernel's
    limit on a process's memory mappings (vm.max_map_count, 65,530 by default) and crash."""
    yield
    jax.clear_caches()
