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

# Public names, resolved on first use (so that `python -m osl.data` and friends do not import
# the whole library before running).
_WHERE = {
    "CapabilityFit": "capability", "CapabilityModel": "capability",
    "ArgumentError": "errors", "DataError": "errors", "FitError": "errors", "OSLError": "errors",
    "ScoreError": "errors",
    "LinkSpec": "predict", "ScalingPredictor": "predict", "compare": "predict",
    "cutoff_split": "predict", "fit_paired": "predict", "fit_targets": "predict",
    "heldout_split": "predict", "top_split": "predict",
    "fit_capability_space": "space", "read_table": "table",
    "SubsetSearch": "selection", "evaluate_subsets": "selection", "pool_scores": "selection",
    "search_scores": "selection", "search_subsets": "selection", "vopt_objective": "selection",
    "compute_multiplier": "multipliers", "family_bootstrap": "multipliers",
    "fit_ood": "ood",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        import importlib
        value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'osl' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
