"""The report's figures, written as PNG files.

They are drawn on ``matplotlib.figure.Figure`` objects, not through ``pyplot``, so drawing
them neither needs nor changes a backend (a notebook importing this keeps its inline plots).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure


def as_picture(row: np.ndarray) -> np.ndarray | None:
    """A square grey image from a flat row, or ``None`` if its width is not a square."""
    side = round(np.sqrt(row.size))
    return row.reshape(side, side) if side * side == row.size else None


def classification_chart(table: list[dict], metric: str, path: Path) -> None:
    """Horizontal bars of ``metric`` for every row of the classification table, with error bars
    of one standard deviation where rows carry ``{metric}_std`` (tables over seeds)."""
    labels = [f"{row['model']}: {row['input']}" for row in table]
    values = [row[metric] for row in table]
    errors = [row.get(f"{metric}_std", 0.0) for row in table]
    figure = Figure(figsize=(8, 0.45 * len(table) + 1))
    axis = figure.subplots()
    bars = axis.barh(
        range(len(table)),
        values,
        xerr=errors if any(errors) else None,
        color=["C0" if "DBM" in row["model"] else "C7" for row in table],
    )
    axis.bar_label(bars, fmt="%.3f", padding=3)
    axis.set_yticks(range(len(table)), labels)
    axis.invert_yaxis()
    axis.set_xlim(0, 1.08)
    axis.set_xlabel(f"test {metric.replace('_', ' ')}")
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def words_for_images(
    images: np.ndarray,
    words: Sequence[Sequence[str]],
    own: Sequence[Sequence[str]],
    path: Path,
    columns: int = 4,
) -> None:
    """Each image beside its generated words (bold) and its own words (grey)."""
    rows = -(-len(images) // columns)
    figure = Figure(figsize=(3.2 * columns, 1.7 * rows))
    axes = figure.subplots(rows, 2 * columns, squeeze=False)
    for axis in axes.flat:
        axis.set_axis_off()
    for i, (image, generated, tags) in enumerate(zip(images, words, own, strict=True)):
        picture, text = axes.flat[2 * i], axes.flat[2 * i + 1]
        picture.imshow(as_picture(image), cmap="gray")
        text.text(0, 0.95, "\n".join(generated), fontsize=9, weight="bold", va="top")
        text.text(0.55, 0.95, "\n".join(tags), fontsize=7, color="0.45", va="top")
    figure.suptitle("Tags generated from test images (bold: top 5 inferred; grey: own tags)")
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def images_for_words(
    queries: Sequence[str], inferred: np.ndarray, retrieved: Sequence[np.ndarray], path: Path
) -> None:
    """One row per text query: the image inferred from it, then the images retrieved."""
    columns = 1 + len(retrieved[0])
    figure = Figure(figsize=(1.2 * columns, 1.4 * len(queries)))
    axes = figure.subplots(len(queries), columns, squeeze=False)
    for row, (query, mean, images) in enumerate(zip(queries, inferred, retrieved, strict=True)):
        for column, image in enumerate([mean, *images]):
            axes[row, column].imshow(as_picture(image), cmap="gray")
            axes[row, column].set_axis_off()
        axes[row, 0].set_title(f"{query} (inferred)", fontsize=8, loc="left")
    figure.suptitle("Images for text queries: inferred, then the nearest test images")
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def image_grid(images: np.ndarray, title: str, path: Path, columns: int = 10) -> None:
    """Images (flat square rows) in a grid."""
    rows = -(-len(images) // columns)
    figure = Figure(figsize=(columns, rows))
    axes = figure.subplots(rows, columns, squeeze=False)
    for axis in axes.flat:
        axis.set_axis_off()
    for axis, image in zip(axes.flat, images, strict=False):
        axis.imshow(as_picture(image), cmap="gray")
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
