"""Counting how often JAX traces a jitted function, through jax.monitoring's public events."""

import contextlib
from collections import Counter

import jax

_TRACE_EVENT = "/jax/core/compile/jaxpr_trace_duration"


@contextlib.contextmanager
def count_traces():
    """Yield a Counter of ``{function name: traces}`` for the traces made inside the block."""
    counts = Counter()

    def listener(event: str, duration: float, **kwargs) -> None:
        if event == _TRACE_EVENT:
            counts[kwargs.get("fun_name", "?")] += 1

    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        yield counts
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)
