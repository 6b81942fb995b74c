"""From a config to trained parameters: data, model, pretraining, training, saved parameters.

``prepare(config)`` loads the dataset, preprocesses each modality with statistics of the
training split and builds the model; ``train(config, workdir)`` pretrains, trains with PCD
(metrics and checkpoints in ``workdir``) and saves the parameters; ``restore`` reads them back.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import jax
import ml_collections
import numpy as np

import mmdbm as mm
from experiments.config import (
    RESUMABLE_CHANGES,
    check_batch_sizes,
    check_config,
    config_changes,
)
from mmdbm.checkpoint import Checkpoints
from mmdbm.workdir_lock import owned

UNITS = {
    "bernoulli": mm.Bernoulli,
    "gaussian": mm.Gaussian,
    "replicated_softmax": mm.ReplicatedSoftmax,
}
PREPROCESSING = ("none", "standardise", "binarise")
UNIT_RATES_AS_GIVEN = {"Bernoulli": 1.0, "Gaussian": 1.0, "ReplicatedSoftmax": 1.0}
SPLITS = ("train", "validation", "test")
PARAMS_DIR = "model"
PRETRAINED_DIR = "pretrained"
QUERY_DIR = "query_dbm"
CONFIG_FILE = "config.json"


@dataclasses.dataclass(frozen=True)
class Experiment:
    """A config made concrete.

    Attributes:
      config: the config.
      model: the model; a modality's visible layer is named after it (``"v"`` for a
        single-pathway RBM or DBM, see ``layer_of``).
      splits: ``{split: {modality: float32 [n, width], "labels": [n] or [n, num_labels]}}``,
        preprocessed.
      vocabulary: the words of a count modality, if the dataset has them.
      scaling: ``{modality: (shift, scale)}`` of the preprocessing, ``(x - shift) / scale``.
      class_words: the words of each class, if the dataset names them (zero-shot prompts).
    """

    config: ml_collections.ConfigDict
    model: mm.Model
    splits: dict[str, dict[str, np.ndarray]]
    vocabulary: np.ndarray | None
    scaling: dict[str, tuple[np.ndarray, np.ndarray]]
    class_words: tuple[tuple[str, ...], ...] | None = None

    @property
    def modalities(self) -> tuple[str, ...]:
        return tuple(self.config.modalities.keys())

    def layer_of(self, modality: str) -> str:
        return modality if self.config.joint else "v"

    def is_count(self, modality: str) -> bool:
        return self.config.modalities[modality].unit == "replicated_softmax"

    def unscaled(self, modality: str, values: np.ndarray) -> np.ndarray:
        """Preprocessed values of ``modality`` mapped back to the data's scale."""
        shift, scale = self.scaling[modality]
        return np.asarray(values) * scale + shift

    def complete(self, split: str) -> np.ndarray:
        """Rows whose count modalities hold at least one word (an empty document is a missing
        modality, as an untagged image on MIR-Flickr)."""
        data = self.splits[split]
        rows = np.ones(len(data["labels"]), bool)
        for modality in self.modalities:
            if self.is_count(modality):
                rows &= data[modality].sum(axis=1) > 0
        return rows

    def inputs(
        self, split: str, modalities: tuple[str, ...] | None = None, rows: np.ndarray | None = None
    ) -> dict[str, np.ndarray]:
        """``{visible layer: array}`` of ``modalities`` (default: all) in ``rows`` of ``split``
        (default: the complete rows)."""
        rows = self.complete(split) if rows is None else rows
        modalities = self.modalities if modalities is None else modalities
        return {self.layer_of(m): self.splits[split][m][rows] for m in modalities}


def build_model(config: ml_collections.ConfigDict, widths: dict[str, int]) -> mm.Model:
    """The model the config describes, for modalities of the given widths: a multimodal DBM
    when ``joint > 0``, otherwise an RBM (one hidden layer) or a DBM over the one modality."""
    pathways = {}
    for modality, spec in config.modalities.items():
        if spec.unit not in UNITS:
            raise ValueError(f"modality '{modality}': unit must be one of {sorted(UNITS)}")
        if spec.preprocess not in PREPROCESSING:
            raise ValueError(f"modality '{modality}': preprocess must be one of {PREPROCESSING}")
        if not spec.hidden or any(not isinstance(w, int) or w < 1 for w in spec.hidden):
            raise ValueError(f"modality '{modality}': hidden must be positive widths")
        pathways[modality] = (UNITS[spec.unit](widths[modality]), list(spec.hidden))
    if config.query not in pathways:
        raise ValueError(f"query {config.query!r} must be one of the modalities {list(pathways)}")
    if config.joint:
        if len(pathways) < 2:
            raise ValueError("joint > 0 needs two modalities or more")
        return mm.multimodal_dbm(pathways, joint=config.joint)
    if len(pathways) != 1:
        raise ValueError("several modalities need a joint layer (joint > 0)")
    ((visible, hidden),) = pathways.values()
    return mm.rbm(visible, hidden[0]) if len(hidden) == 1 else mm.dbm(visible, hidden)


def query_config(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    """The config of a DBM over the query modality alone, its pathway topped by a layer as wide
    as the joint layer: the unimodal model that multimodal queries are compared with."""
    query = config.query
    unimodal = ml_collections.ConfigDict(config.to_dict())
    spec = config.modalities[query]
    unimodal.modalities = {query: {**spec.to_dict(), "hidden": (*spec.hidden, config.joint)}}
    unimodal.joint = 0
    unimodal.lock()
    return unimodal


def _preprocess(train: np.ndarray, how: str) -> tuple[np.ndarray, np.ndarray]:
    """``(shift, scale)`` that map a modality as ``(x - shift) / scale``; from training data."""
    if how == "standardise":
        std = train.std(axis=0)
        return train.mean(axis=0), np.where(std > 1e-6, std, 1.0)
    return np.zeros(train.shape[1], np.float32), np.ones(train.shape[1], np.float32)


def prepare(config: ml_collections.ConfigDict) -> Experiment:
    """Load, preprocess (training-split statistics) and build the model of ``config``."""
    options = {"directory": config.data.directory} if config.data.directory else {}
    dataset = mm.datasets.load(config.dataset, seed=config.seed, **options)
    for modality in config.modalities:
        if modality not in dataset["train"]:
            known = [k for k in dataset["train"] if k != "labels"]
            raise ValueError(
                f"dataset {config.dataset!r} has no modality {modality!r}; it has {known}"
            )
    limit = config.data.limit or None
    splits = {name: {"labels": dataset[name]["labels"][:limit]} for name in SPLITS}
    scaling = {}
    for modality, spec in config.modalities.items():
        shift, scale = _preprocess(dataset["train"][modality][:limit], spec.preprocess)
        scaling[modality] = (shift, scale)
        for name in SPLITS:
            values = (dataset[name][modality][:limit] - shift) / scale
            if spec.preprocess == "binarise":
                values = values >= 0.5
            splits[name][modality] = values.astype(np.float32)
    widths = {m: splits["train"][m].shape[1] for m in config.modalities}
    model = build_model(config, widths)
    return Experiment(
        config, model, splits, dataset.get("vocabulary"), scaling, dataset.get("class_words")
    )


def pretraining_rates(experiment: Experiment) -> dict[str, float]:
    """``{upper layer: rate}``: a pathway's RBMs use its modality's rate, the joint RBM
    ``pretrain.learning_rate``."""
    config, model = experiment.config, experiment.model
    rates = {}
    for modality, spec in config.modalities.items():
        lowest = experiment.layer_of(modality)
        hidden = [upper for lower, upper in model.edges if lower == lowest]
        while hidden and hidden[0] != "joint":
            rates[hidden[0]] = spec.learning_rate
            hidden = [upper for lower, upper in model.edges if lower == hidden[0]]
    if config.joint:
        rates["joint"] = config.pretrain.learning_rate
    return rates


def pretrained(experiment: Experiment, data: dict[str, np.ndarray], *, progress: bool) -> mm.Params:
    """Initial parameters from the training data, greedily pretrained when the model is deeper
    than an RBM and ``pretrain.num_epochs > 0``. The config gives each pathway its rate, so
    the library's factors by unit type are not applied on top."""
    config, model = experiment.config, experiment.model
    init_key, pretrain_key = jax.random.split(jax.random.key(config.seed))
    params = model.init(init_key, data)
    if not config.pretrain.num_epochs or len(model.layers) == 2:
        return params
    return mm.pretrain(
        pretrain_key,
        model,
        data,
        params=params,
        num_epochs=config.pretrain.num_epochs,
        batch_size=config.pretrain.batch_size,
        learning_rate=pretraining_rates(experiment),
        unit_rates=UNIT_RATES_AS_GIVEN,
        progress=progress,
    )


def estimator_of(experiment: Experiment) -> mm.GradientEstimator:
    """PCD with the config's numbers of Gibbs and mean-field steps."""
    t = experiment.config.train
    return mm.pcd(
        experiment.model,
        num_gibbs_steps=t.num_gibbs_steps,
        num_mean_field_steps=t.num_mean_field_steps,
    )


def steps_of(config: ml_collections.ConfigDict, num_examples: int) -> int:
    """The number of updates of PCD training on ``num_examples`` rows."""
    return config.train.num_epochs * (num_examples // config.train.batch_size)


def train(
    config: ml_collections.ConfigDict,
    workdir: str | Path,
    *,
    resume: bool = False,
    progress: bool = True,
) -> mm.Params:
    """Pretrain and train the config's model on the complete training rows; write the config,
    metrics and checkpoints to ``workdir`` and save the final parameters there. For a
    multimodal model, the DBM over the query modality alone (``query_config``) is trained
    too, in ``workdir/query_dbm``.

    With ``resume``, an interrupted run in ``workdir`` continues from its last checkpoint;
    without it, a ``workdir`` that already holds a run is refused, never overwritten.
    """
    workdir = Path(workdir)
    check_config(config)
    experiment = prepare(config)
    check_batch_sizes(config, len(next(iter(experiment.inputs("train").values()))))
    with owned(workdir):
        _claim(workdir, config, resume)
        return _trained(config, experiment, workdir, resume=resume, progress=progress)


def _claim(workdir: Path, config: ml_collections.ConfigDict, resume: bool) -> None:
    """Write the config of a new run to ``workdir``, or check that a run to resume was
    started with it (only ``RESUMABLE_CHANGES`` may differ) and record the change."""
    if (workdir / CONFIG_FILE).exists() and not resume:
        raise ValueError(f"{workdir} already holds a run; choose another workdir or resume it")
    if resume and not (workdir / CONFIG_FILE).exists():
        raise ValueError(f"{workdir} holds no run to resume; start one without --resume")
    if resume:
        changes = config_changes(saved_config(workdir), config)
        fixed = {k: v for k, v in changes.items() if not k.startswith(RESUMABLE_CHANGES)}
        if fixed:
            differences = ", ".join(f"{k}={old!r} (now {new!r})" for k, (old, new) in fixed.items())
            raise ValueError(
                f"cannot resume the run in {workdir}: it was started with {differences}; give "
                "the config and overrides it was started with (only train.num_epochs and "
                "evaluate.* may change)"
            )
    temporary = workdir / (CONFIG_FILE + ".tmp")
    temporary.write_text(config.to_json(indent=2))
    temporary.replace(workdir / CONFIG_FILE)


def _trained(
    config: ml_collections.ConfigDict,
    experiment: Experiment,
    workdir: Path,
    *,
    resume: bool,
    progress: bool,
) -> mm.Params:
    data = experiment.inputs("train")
    with Checkpoints(workdir / PRETRAINED_DIR, max_to_keep=1) as saved:
        template = experiment.model.init(jax.random.key(0), data)
        if saved.latest_epoch() is None:
            params = pretrained(experiment, data, progress=progress)
            saved.save(config.pretrain.num_epochs, params)
        else:
            params = saved.restore_newest(template)[1]
    t = config.train
    num_steps = steps_of(config, len(next(iter(data.values()))))
    params, _ = mm.fit(
        jax.random.fold_in(jax.random.key(config.seed), 1),
        experiment.model,
        data,
        params=params,
        optimizer=mm.default_optimizer(
            num_steps, learning_rate=t.learning_rate, weight_decay=t.weight_decay
        ),
        estimator=estimator_of(experiment),
        num_epochs=t.num_epochs,
        batch_size=t.batch_size,
        num_chains=t.num_chains,
        workdir=workdir,
        resume=resume,
        progress=progress,
    )
    with Checkpoints(workdir / PARAMS_DIR, max_to_keep=1) as saved:
        if saved.latest_epoch() != t.num_epochs:
            saved.save(t.num_epochs, params)
    if config.joint:
        query_dir = workdir / QUERY_DIR
        started = (query_dir / CONFIG_FILE).exists()
        train(query_config(config), query_dir, resume=resume and started, progress=progress)
    return params


def saved_config(workdir: str | Path) -> ml_collections.ConfigDict:
    """The config a run in ``workdir`` was started with."""
    path = Path(workdir) / CONFIG_FILE
    if not path.exists():
        raise ValueError(f"{workdir} holds no run ({CONFIG_FILE} is missing); run mmdbm train")
    try:
        config = ml_collections.ConfigDict(json.loads(path.read_text()))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path} is not a readable config ({error})") from None
    config.lock()
    return config


def restore(workdir: str | Path) -> tuple[ml_collections.ConfigDict, Experiment, mm.Params]:
    """The config, the prepared experiment and the trained parameters of a run's workdir."""
    workdir = Path(workdir)
    config = saved_config(workdir)
    experiment = prepare(config)
    with Checkpoints(workdir / PARAMS_DIR, max_to_keep=1) as saved:
        epoch = saved.latest_epoch()
        if epoch is None:
            raise ValueError(f"{workdir} holds no trained parameters; its training did not finish")
        template = experiment.model.init(jax.random.key(0), experiment.inputs("train"))
        params = saved.restore(epoch, template)
    return config, experiment, params
