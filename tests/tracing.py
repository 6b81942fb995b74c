"""Counting how often JAX traces and compiles, through jax.monitoring's public events."""

import contextlib
from collections import Counter

import jax

_TRACE_EVENT = "/jax/core/compile/jaxpr_trace_duration"
_COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"


@contextlib.contextmanager
def _count(event_name: str):
    counts = Counter()

    def listener(event: str, duration: float, **kwargs) -> None:
        if event == event_name:
            name = kwargs.get("fun_name", "?")
            counts[name.removeprefix("jit(").removesuffix(")")] += 1

    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        yield counts
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)


def count_traces():
    """A block yielding a Counter of ``{function name: traces}`` made inside it."""
    return _count(_TRACE_EVENT)


def count_compilations():
    """A block yielding a Counter of ``{function name: XLA compilations}`` made inside it."""
    return _count(_COMPILE_EVENT)
