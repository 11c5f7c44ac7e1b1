"""Shared fixtures: synthetic data generators and the real (verified) tables."""
from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np
import pandas as pd
import pytest

from osl import data


@pytest.fixture(scope="session")
def base_models() -> pd.DataFrame:
    return data.load_base_models()


@pytest.fixture(scope="session")
def core(base_models) -> pd.DataFrame:
    return data.core_models(base_models)


def raw_table(n: int = 6, seed: int = 0) -> pd.DataFrame:
    """A small valid table in the upstream base-model format."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        row = {"Model": f"org/model-{i}", "Model Family": "Fam" if i < n // 2 else "Other",
               "Model Size (B)": 1.0 + i, "Pretraining Data Size (T)": 1.0,
               "FLOPs (1E21)": 6.0 * (1.0 + i)}
        for b in data.presets.BASE_BENCHMARKS:
            row[b] = float(rng.uniform(0.2, 0.8))
        rows.append(row)
    return pd.DataFrame(rows)


@pytest.fixture
def raw() -> pd.DataFrame:
    return raw_table()


def lowrank_scores(n: int, loadings: np.ndarray, *, noise: float, seed: int,
                   missing: float = 0.0, scales=(1.0, 0.4, 0.25)):
    """Scores = centre + latent @ loadings + noise (latent standard deviations ``scales``), inside (0, 1); optional MCAR missing cells.

    Returns (complete scores, scores with NaNs, mask of missing cells).
    """
    rng = np.random.default_rng(seed)
    k, p = loadings.shape
    latent = rng.normal(size=(n, k)) * np.asarray(scales[:k])  # a paper-like spectrum
    X = 0.5 + 0.12 * latent @ loadings + noise * rng.normal(size=(n, p))
    assert X.min() > 0 and X.max() < 1, "synthetic scores left [0, 1]: lower the scale"
    miss = rng.random((n, p)) < missing
    miss[miss.all(axis=1), 0] = False  # every model keeps at least one score
    Xm = X.copy()
    Xm[miss] = np.nan
    cols = list(data.presets.BASE_BENCHMARKS)[:p]
    idx = [f"m{i}" for i in range(n)]
    return (pd.DataFrame(X, index=idx, columns=cols), pd.DataFrame(Xm, index=idx, columns=cols),
            miss)


@pytest.fixture(scope="session")
def built_book(tmp_path_factory):
    """The whole book, built strictly from clean into a temporary folder (once per session)."""
    import subprocess
    import sys
    from types import SimpleNamespace

    from osl import paths

    out = tmp_path_factory.mktemp("book")
    env = dict(os.environ, OSL_BUILD_DIR=str(out / "_build"), MPLBACKEND="Agg")
    # As `make book` does: the chapters executed in parallel while the strict Sphinx pass
    # reads the book, waiting at each chapter for its execution.
    proc = subprocess.run([sys.executable, "-m", "osl.build", "book", "--path-output", str(out)],
                          cwd=paths.PROJECT_ROOT, env=env, capture_output=True, text=True,
                          timeout=1200)
    log = proc.stdout + proc.stderr
    (out / "build.log").write_text(log)
    return SimpleNamespace(returncode=proc.returncode, log=log, root=out,
                           build=out / "_build", html=out / "_build" / "html")
