"""Loading experiment configs and applying command-line overrides.

A config (``experiments/configs/<name>.py``, ``get_config()``) has these fields:

- ``dataset``, ``seed``: what ``mm.datasets.load`` reads and the seed of splits and training;
  ``data.limit`` keeps the first n examples of each split (0: all), ``data.directory`` is
  passed to loaders that read installed files (empty: their default).
- ``modalities``: ``{dataset key: {unit, hidden, preprocess}}``, one pathway each; ``unit`` is
  ``"bernoulli"``, ``"gaussian"`` or ``"replicated_softmax"``, ``hidden`` the pathway's
  hidden widths, ``preprocess`` ``"none"``, ``"standardise"`` or ``"binarise"``,
  ``learning_rate`` the pretraining rate of the pathway's RBMs.
- ``joint``: width of the joint layer over the pathways (0 for a single-pathway RBM or DBM);
  ``query``: the modality of single-modality queries (the image).
- ``pretrain``: epochs, batch size and the joint RBM's learning rate of greedy pretraining;
  ``train``: epochs and optimiser settings of PCD training of the whole model;
  ``evaluate``: sizes of inference, AIS and baselines.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import math
from pathlib import Path

import ml_collections

from mmdbm.validation import check_count, check_non_negative

CONFIGS = Path(__file__).parent / "configs"


def available() -> list[str]:
    """The names of the bundled configs."""
    return sorted(p.stem for p in CONFIGS.glob("*.py") if not p.stem.startswith("_"))


def load_config(spec: str) -> ml_collections.ConfigDict:
    """The config named ``spec`` (a bundled name such as ``mnist_tags``) or in the file
    ``spec``, locked so that unknown keys cannot be set."""
    path = Path(spec)
    if path.suffix != ".py":
        if spec not in available():
            raise ValueError(f"unknown config {spec!r}; the configs are {available()}")
        path = CONFIGS / f"{spec}.py"
    elif not path.is_file():
        raise ValueError(f"config file {spec} does not exist")
    module_spec = importlib.util.spec_from_file_location(f"_config_{path.stem}", path)
    module = importlib.util.module_from_spec(module_spec)
    try:
        module_spec.loader.exec_module(module)
    except SyntaxError as error:
        raise ValueError(f"config file {path}: line {error.lineno}: {error.msg}") from None
    if not hasattr(module, "get_config"):
        raise ValueError(f"config file {path} has no get_config()")
    config = module.get_config()
    config.lock()
    return config


def parse_value(text: str) -> object:
    """A Python literal (number, tuple, bool, quoted string) or, failing that, the text."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def override(config: ml_collections.ConfigDict, assignment: str) -> None:
    """Apply one ``key.path=value`` assignment (the ``--config.`` prefix already removed)."""
    if "=" not in assignment:
        raise ValueError(f"override {assignment!r} must look like --config.key=value")
    path, text = assignment.split("=", 1)
    *parents, leaf = path.split(".")
    node = config
    for depth, name in enumerate(parents):
        if name not in node or not isinstance(node[name], ml_collections.ConfigDict):
            raise ValueError(f"unknown config key {'.'.join(parents[: depth + 1])!r}")
        node = node[name]
    if leaf not in node:
        known = ", ".join(sorted(node.keys()))
        raise ValueError(f"unknown config key {path!r}; the keys there are: {known}")
    if isinstance(node[leaf], ml_collections.ConfigDict):
        raise ValueError(f"config key {path!r} is a group; set one of its keys")
    value = parse_value(text)
    if isinstance(node[leaf], tuple) and isinstance(value, int | list):
        value = tuple(value) if isinstance(value, list) else (value,)
    if isinstance(node[leaf], str) and not isinstance(value, str):
        value = text
    try:
        node[leaf] = value
    except TypeError as error:
        raise ValueError(
            f"config key {path!r} holds a {type(node[leaf]).__name__}, got {text!r}"
        ) from error


def with_overrides(config: ml_collections.ConfigDict, assignments: list[str]) -> None:
    """Apply each ``key.path=value`` assignment in order."""
    for assignment in assignments:
        override(config, assignment)


COUNTS = (
    "pretrain.num_epochs",
    "pretrain.batch_size",
    "train.num_epochs",
    "train.batch_size",
    "train.num_chains",
    "train.num_gibbs_steps",
    "train.num_mean_field_steps",
    "baselines.num_epochs",
    "baselines.batch_size",
    "evaluate.num_inference_steps",
    "evaluate.num_ais_chains",
    "evaluate.num_ais_betas",
    "evaluate.num_topics",
    "evaluate.num_documents",
)
RATES = ("pretrain.learning_rate", "train.learning_rate", "baselines.learning_rate")
# Keys a resumed run may change: how long it trains, and how it is evaluated afterwards.
RESUMABLE_CHANGES = ("train.num_epochs", "evaluate.")


def _get(config: ml_collections.ConfigDict, path: str) -> object:
    node = config
    for name in path.split("."):
        node = node[name]
    return node


def check_config(config: ml_collections.ConfigDict) -> None:
    """Refuse settings no run can use, before anything is loaded or written: counts that are
    not positive ints, rates that are not positive and finite, a negative weight decay, seed
    or data limit.

    Raises:
      ValueError: naming the key and the value.
    """
    for path in COUNTS:
        check_count(f"config key {path!r}", _get(config, path))
    rates = [*RATES, *(f"modalities.{m}.learning_rate" for m in config.modalities)]
    for path in rates:
        value = _get(config, path)
        if not _is_number(value) or not 0 < value < math.inf:
            raise ValueError(f"config key {path!r} must be a positive finite rate, got {value!r}")
    for path in ("seed", "data.limit"):
        value = _get(config, path)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"config key {path!r} must be an int >= 0, got {value!r}")
    check_non_negative("config key 'train.weight_decay'", config.train.weight_decay)


def check_batch_sizes(config: ml_collections.ConfigDict, num_rows: int) -> None:
    """Refuse batch sizes larger than the ``num_rows`` complete training rows."""
    for path in ("pretrain.batch_size", "train.batch_size"):
        if _get(config, path) > num_rows:
            raise ValueError(
                f"config key {path!r} is {_get(config, path)}, more than the {num_rows} "
                f"complete training rows (data.limit={config.data.limit})"
            )


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def config_changes(
    started: ml_collections.ConfigDict, requested: ml_collections.ConfigDict
) -> dict[str, tuple[object, object]]:
    """``{dotted key: (started value, requested value)}`` for every key whose value differs
    (a key absent from one config has the value ``None`` there)."""
    flat = [_flattened(c.to_dict()) for c in (started, requested)]
    keys = sorted(flat[0].keys() | flat[1].keys())
    return {k: (flat[0].get(k), flat[1].get(k)) for k in keys if flat[0].get(k) != flat[1].get(k)}


def _flattened(tree: dict, prefix: str = "") -> dict[str, object]:
    items = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            items |= _flattened(value, f"{prefix}{key}.")
        else:
            items[f"{prefix}{key}"] = list(value) if isinstance(value, tuple) else value
    return items


def base_config() -> ml_collections.ConfigDict:
    """The fields every config shares, with the papers' defaults; configs fill in the rest."""
    return ml_collections.ConfigDict(
        {
            "dataset": "",
            "seed": 0,
            "data": {"limit": 0, "directory": ""},
            "modalities": {},
            "joint": 0,
            "query": "",
            "pretrain": {"num_epochs": 50, "learning_rate": 0.01, "batch_size": 100},
            "train": {
                "num_epochs": 20,
                "batch_size": 100,
                "learning_rate": 0.005,
                "weight_decay": 2e-4,
                "num_chains": 100,
                "num_gibbs_steps": 20,
                "num_mean_field_steps": 5,
            },
            "baselines": {"num_epochs": 30, "batch_size": 100, "learning_rate": 1e-3},
            "evaluate": {
                "num_inference_steps": 50,
                "num_ais_chains": 100,
                "num_ais_betas": 10_000,
                "num_topics": 20,
                "num_documents": 50,
            },
        }
    )
