"""Project paths, anchored on the package location (never on the working directory).

``osl`` is installed in editable mode from ``lib/osl``, so the project root is two levels above
this package. Environment variables override the defaults:

* ``OSL_DATA_CACHE``: where verified data files are cached (default ``data/cache``);
* ``OSL_BUILD_DIR``: the build folder for results and figures (default ``_build``).
"""
from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parents[1]
DATA_DIR = PROJECT_ROOT / "data"
REGISTRY_FILE = DATA_DIR / "registry.json"
#: Set (to anything but "" or "0") to leave figures' SVG drawing to the build's renderer
#: (see :mod:`osl.figures`); ``python -m osl.build`` sets it for the kernels it starts.
DEFER_FIGURES_ENV = "OSL_DEFER_FIGURES"


def cache_dir() -> Path:
    """Folder of verified, cached data files."""
    return Path(os.environ.get("OSL_DATA_CACHE", DATA_DIR / "cache"))


def build_dir() -> Path:
    """Root of build products (book HTML, results, figures)."""
    return Path(os.environ.get("OSL_BUILD_DIR", PROJECT_ROOT / "_build"))


def results_dir() -> Path:
    return build_dir() / "results"


def figures_dir() -> Path:
    return build_dir() / "figures"
