"""osl: observational scaling laws on any benchmark table.

The public API in one place::

    import osl
    models = osl.read_table("my_models.csv")                    # model column + your benchmarks
    fits = osl.fit_targets(models, ["task_a", "task_b"], train, benchmarks=[...], n_pcs=2)
    fits.bootstrap(500, seed=0).predict(new_models, level=0.8)  # forecasts with intervals

Every mistake in the input raises an :class:`osl.OSLError` subclass whose message says what to
fix. The paper's own set-up is the preset :mod:`osl.presets`; the paper's printed values are in
:mod:`osl.reported`.
"""
__version__ = "0.2.0"

from .capability import CapabilityFit, CapabilityModel
from .errors import ArgumentError, DataError, FitError, OSLError, ScoreError
from .predict import (LinkSpec, ScalingPredictor, compare, cutoff_split, fit_paired, fit_targets,
                      heldout_split, top_split)
from .space import fit_capability_space
from .table import read_table

__all__ = [
    "ArgumentError", "CapabilityFit", "CapabilityModel", "DataError", "FitError", "LinkSpec",
    "OSLError", "ScalingPredictor", "ScoreError", "compare", "cutoff_split",
    "fit_capability_space", "fit_paired", "fit_targets", "heldout_split", "read_table",
    "top_split",
]
