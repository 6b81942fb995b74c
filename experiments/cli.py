"""The ``mmdbm`` command line: ``train``, ``evaluate``, ``generate``, ``sweep``, ``compare``
and ``demo``.

Configs are named (``mnist_tags``) or given as files; any key can be overridden as
``--config.train.num_epochs=3``. Each run has a work directory holding its config, metrics
(JSON lines), checkpoints, parameters and report; one process at a time may use it, and
``--resume`` continues the run only with the config it was started with (a larger
``train.num_epochs`` extends it). Mistakes (unknown configs or keys, bad values, missing or
corrupt data) end with one line on standard error and exit status 2, before anything is
written; Ctrl-C ends with one line saying how to resume (exit status 130).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import jax

from mmdbm import TrainingDivergedError
from mmdbm.compilation import enable_persistent_cache

try:
    import ml_collections

    from experiments import generate, pipeline
    from experiments.compare import run_compare
    from experiments.config import load_config, with_overrides
    from experiments.report import write_report
    from experiments.sweep import parse_grid, run_sweep
except ImportError as missing:
    raise SystemExit(
        f"mmdbm: error: the command line needs mmdbm's experiments extra "
        f"(pip install 'mmdbm[experiments]'): {missing}"
    ) from missing

PREFIX = "--config."


class Interrupted(Exception):
    """Ctrl-C during training, with how to continue."""


DEMO_CONFIG = "mnist_tags"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mmdbm",
        description="Multimodal deep Boltzmann machines: train, evaluate, generate, sweep, "
        "compare.",
        epilog="Override any config key with --config.KEY=VALUE, e.g. --config.train.num_epochs=3.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="pretrain and train a config's model")
    train.add_argument("--config", required=True, help="a config name or a config file")
    train.add_argument("--workdir", help="the run's directory (default: runs/CONFIG-TIME)")
    train.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --workdir: the same config and overrides, where a larger "
        "train.num_epochs extends it",
    )
    train.add_argument("--no-report", action="store_true", help="skip the evaluation")
    evaluate = commands.add_parser("evaluate", help="evaluate a trained run, write its report")
    evaluate.add_argument("--workdir", required=True)
    generate = commands.add_parser("generate", help="tags for test images, images for tags")
    generate.add_argument("--workdir", required=True)
    generate.add_argument(
        "--images",
        type=int,
        nargs="+",
        default=[],
        metavar="INDEX",
        help="test-split rows to generate tags for",
    )
    generate.add_argument(
        "--tags",
        nargs="+",
        default=[],
        metavar="WORDS",
        help="bags of words (quoted, space-separated) to find images for",
    )
    sweep = commands.add_parser("sweep", help="train a grid of runs as vmapped programs")
    sweep.add_argument("--config", required=True)
    sweep.add_argument("--workdir", help="the sweep's directory (default: runs/sweep-CONFIG-TIME)")
    sweep.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    sweep.add_argument(
        "--grid",
        nargs="*",
        default=[],
        metavar="KEY=V1,V2",
        help="config keys and the values to try, e.g. train.learning_rate=0.01,0.001",
    )
    compare = commands.add_parser(
        "compare", help="the multimodal DBM against every baseline, mean +- std over seeds"
    )
    compare.add_argument("--config", required=True)
    compare.add_argument("--workdir", help="where it goes (default: runs/compare-CONFIG-TIME)")
    compare.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    demo = commands.add_parser("demo", help=f"train and evaluate the {DEMO_CONFIG} config")
    demo.add_argument("--workdir", help="the run's directory (default: runs/demo-TIME)")
    return parser


def _default_workdir(name: str) -> Path:
    return Path("runs") / f"{Path(name).stem}-{time.strftime('%Y%m%d-%H%M%S')}"


def _config(spec: str, overrides: list[str]) -> ml_collections.ConfigDict:
    config = load_config(spec)
    with_overrides(config, overrides)
    return config


def _train_and_report(
    config: ml_collections.ConfigDict, workdir: Path, *, resume: bool, report: bool
) -> None:
    try:
        pipeline.train(config, workdir, resume=resume)
    except KeyboardInterrupt:
        raise Interrupted(
            f"interrupted; the run in {workdir} continues from its last checkpoint with the "
            "same command and --resume"
        ) from None
    print(f"trained: {workdir}")
    if report:
        print(write_report(workdir))
        print(f"report: {workdir / 'report.md'}")


def _generate(workdir: Path, images: list[int], tags: list[str]) -> None:
    queries = [t.split() for t in tags]
    if not all(queries):
        raise ValueError("--tags: each bag of words needs at least one word")
    config, experiment, params = pipeline.restore(workdir)
    if not any(experiment.is_count(m) for m in experiment.modalities):
        raise ValueError(f"{workdir}: generate needs a model with a text (count) modality")
    query = config.query
    test = experiment.splits["test"][query]
    bad = [i for i in images if not 0 <= i < len(test)]
    if bad:
        raise ValueError(f"--images: rows {bad} are outside the {len(test)} test rows")
    if images:
        _, words = generate.words_for(experiment, params, {query: test[images]})
        for row, top in zip(images, words, strict=True):
            print(f"test {query} {row}: {' '.join(top)}")
    if tags:
        _, found = generate.images_for(
            jax.random.key(config.seed),
            experiment,
            params,
            queries,
            experiment.unscaled(query, test),
        )
        for text, rows in zip(tags, found, strict=True):
            print(f"{text!r}: test {query} rows {' '.join(map(str, rows))}")


def run(argv: Sequence[str]) -> None:
    """Parse ``argv`` and run the command; mistakes raise ``ValueError``."""
    known, rest = _parser().parse_known_args(argv)
    overrides = [a[len(PREFIX) :] for a in rest if a.startswith(PREFIX)]
    stray = [a for a in rest if not a.startswith(PREFIX)]
    if stray:
        raise ValueError(f"unrecognised arguments: {' '.join(stray)}")
    command = known.command
    if overrides and command in ("evaluate", "generate"):
        raise ValueError(f"{command} reads the config saved in --workdir; it takes no overrides")
    if command == "train":
        if known.resume and not known.workdir:
            raise ValueError("--resume needs the --workdir of the run to continue")
        workdir = Path(known.workdir) if known.workdir else _default_workdir(known.config)
        config = _config(known.config, overrides)
        _train_and_report(config, workdir, resume=known.resume, report=not known.no_report)
    elif command == "demo":
        workdir = Path(known.workdir) if known.workdir else _default_workdir("demo")
        _train_and_report(_config(DEMO_CONFIG, overrides), workdir, resume=False, report=True)
    elif command == "evaluate":
        print(write_report(Path(known.workdir)))
    elif command == "generate":
        if not known.images and not known.tags:
            raise ValueError("generate needs --images, --tags or both")
        _generate(Path(known.workdir), known.images, known.tags)
    elif command == "compare":
        workdir = (
            Path(known.workdir) if known.workdir else _default_workdir(f"compare-{known.config}")
        )
        print(run_compare(_config(known.config, overrides), known.seeds, workdir))
        print(f"written: {workdir}")
    elif command == "sweep":
        workdir = (
            Path(known.workdir) if known.workdir else _default_workdir(f"sweep-{known.config}")
        )
        print(
            run_sweep(
                _config(known.config, overrides), known.seeds, parse_grid(known.grid), workdir
            )
        )


def main(argv: Sequence[str] | None = None) -> int:
    """The console script: run, and turn mistakes into one line and exit status 2.

    Compiled programs are kept on disk (``mmdbm.compilation.enable_persistent_cache``), so a
    second run of the same shapes compiles nothing; ``MMDBM_COMPILATION_CACHE=off`` turns it
    off, ``MMDBM_COMPILATION_CACHE=DIRECTORY`` moves it.
    """
    enable_persistent_cache()
    try:
        run(sys.argv[1:] if argv is None else argv)
    except (ValueError, TrainingDivergedError) as error:
        print(f"mmdbm: error: {' '.join(str(error).split())}", file=sys.stderr)
        return 2
    except Interrupted as interruption:
        print(f"mmdbm: {interruption}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("mmdbm: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
