"""Prediction: capabilities -> sigmoid link -> a downstream metric, with intervals.

One job per module:

* :mod:`~osl.predict.link`: the link ``y = (1 - b) * sigmoid(c + w . x) + b`` and its batched
  Levenberg-Marquardt solver;
* :mod:`~osl.predict.features`: what the link is a function of (PCs, log-FLOPs, log-size,
  named columns), one strategy class each;
* :mod:`~osl.predict.estimator`: :class:`ScalingPredictor`, the estimator;
* :mod:`~osl.predict.targets`: :func:`fit_targets`, several targets in one call;
* :mod:`~osl.predict.bootstrap`: intervals shared across targets, and paired gains;
* :mod:`~osl.predict.axis`: the equivalent-compute axis and crossings;
* :mod:`~osl.predict.splits`: training/held-out splits;
* :mod:`~osl.predict.evaluation`: metrics, comparisons, leave-one-out, the choice of PCs;
* :mod:`~osl.predict.backtests`: the cutoff backtest, one target or a grid of them;
* :mod:`~osl.predict.baselines`: trivial baselines (training mean, best training score, family
  intercept + log-FLOPs) that stand beside the method;
* :mod:`~osl.predict.verdicts`: is A better than B? A paired, family-cluster comparison with a
  written rule;
* :mod:`~osl.predict.chapters`: the book's chapter-specific readings.
"""
from .backtests import backtest, backtest_grid
from .bootstrap import PairedFit, PredictionBootstrap, bootstrap_many, fit_paired, fit_pairs
from .estimator import ScalingPredictor
from .evaluation import (Comparison, choose_n_pcs, choose_n_pcs_many, compare, evaluate,
                         interval_mc_error, leave_family_out, leave_one_out, leave_one_out_many,
                         metrics, quantile_mc_error)
from .features import Columns, Features, LogFlops, LogSize, PCs
from .link import LinkSpec, fit_link, fit_link_batch, link
from .splits import Split, cutoff_split, family_splits, heldout_split, top_split
from .targets import BootstrapSet, TargetSet, fit_targets

__all__ = [
    "BootstrapSet", "Columns", "Comparison", "Features", "LinkSpec", "LogFlops", "LogSize", "PCs",
    "PairedFit", "PredictionBootstrap", "ScalingPredictor", "Split", "TargetSet", "backtest",
    "backtest_grid", "bootstrap_many", "choose_n_pcs", "choose_n_pcs_many", "compare",
    "cutoff_split", "evaluate", "family_splits", "fit_link", "fit_link_batch", "fit_paired",
    "fit_pairs", "fit_targets", "heldout_split", "leave_family_out", "leave_one_out", "link", "metrics", "top_split",
    "interval_mc_error", "leave_one_out_many", "quantile_mc_error",
]
