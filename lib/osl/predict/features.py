"""What the link is a function of: one strategy class per kind of predictor.

A strategy reads its raw columns from a table once (:meth:`Features.raw`, validated), fits
whatever it needs on the training rows (:meth:`Features.fit`: the capability space for
:class:`PCs`, nothing for the others), transforms raw values with a fitted state, and refits on
a stack of bootstrap resamples (:meth:`Features.fit_stack`). The estimator never branches on
the kind of predictor; it asks its strategy.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np
import pandas as pd

from .. import presets, validate
from ..capability import (CapabilityFit, check_capability_inputs, fit_capabilities, pc_names,
                          project)
from ..data import score_matrix
from ..errors import ArgumentError, ScoreError


class Features:
    """Base class of the predictor strategies (see the module docstring)."""

    #: ``"capability"``: the link's linear score is a capability, mapped to compute through a
    #: reference family; ``"compute"``: the feature is log10 FLOPs itself; ``None``: no axis.
    axis: str | None = None
    columns: tuple[str, ...] = ()
    #: Training rows without usable raw values are left out (``False``: they are an error).
    drop_unusable: bool = True

    @property
    def n_features(self) -> int:
        return len(self.columns)

    @property
    def weight_names(self) -> list[str]:
        return [f"w_{c}" for c in self.columns]

    def raw(self, models: pd.DataFrame, what: str = "models") -> np.ndarray:
        validate.columns_present(models, self.columns, what=what,
                                 fix="Add them or choose another predictor.")
        return score_matrix(models, self.columns, table=what, lower=None, upper=None)

    def usable(self, raw: np.ndarray) -> np.ndarray:
        """Rows whose raw values let the strategy compute features."""
        return np.isfinite(raw).all(axis=1)

    def check_training(self, raw: np.ndarray) -> None:
        """Raise a clear error if the training rows cannot be fitted."""

    def fit(self, raw: np.ndarray):
        """Fitted state from the training rows' raw values (``None``: nothing to fit)."""
        return None

    def transform(self, state, raw: np.ndarray) -> np.ndarray:
        """(B, m, k) features of rows ``raw`` under a (stack of) fitted state(s)."""
        return raw[None]

    def fit_stack(self, raw: np.ndarray, idx: np.ndarray, point):
        """Refit on resamples ``idx`` (B, n) of the training rows.

        Returns the stacked state, the (B, n, k) training features and a (B,) validity mask.
        """
        return None, raw[idx], np.ones(len(idx), bool)

    def key(self) -> tuple:
        return (type(self).__name__, self.columns)


@dataclass(frozen=True)
class LogFlops(Features):
    """log10 training FLOPs (column ``log10_flops``): the compute baseline."""

    axis = "compute"
    columns: tuple[str, ...] = ("log10_flops",)

    @property
    def weight_names(self) -> list[str]:
        return ["w_log_flops"]


@dataclass(frozen=True)
class LogSize(Features):
    """log10 parameter count (column ``params_b``, billions): the size baseline."""

    columns: tuple[str, ...] = ("params_b",)

    @property
    def weight_names(self) -> list[str]:
        return ["w_log_size"]

    def raw(self, models: pd.DataFrame, what: str = "models") -> np.ndarray:
        x = super().raw(models, what)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(x > 0, np.log10(x * 1e9), np.nan)


@dataclass(frozen=True)
class Columns(Features):
    """Named numeric columns of the table, used as they are (e.g. Arena-Elo)."""

    columns: tuple[str, ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "columns", validate.names("columns", self.columns))


@dataclass(frozen=True)
class PCs(Features):
    """The first ``n_pcs`` principal components of the benchmark scores, with imputation and
    PCA fitted on the training rows only (the paper's predictor)."""

    benchmarks: tuple[str, ...] = presets.BASE_BENCHMARKS
    n_pcs: int = 3
    standardize: bool = False
    axis = "capability"
    drop_unusable = False

    def __post_init__(self):
        object.__setattr__(self, "benchmarks", validate.names("benchmarks", self.benchmarks))
        validate.integer("n_pcs", self.n_pcs, low=1, high=len(self.benchmarks))
        if not isinstance(self.standardize, (bool, np.bool_)):
            raise ArgumentError(f"standardize must be True or False, got {self.standardize!r}.")

    @property
    def columns(self) -> tuple[str, ...]:  # type: ignore[override]
        return self.benchmarks

    @property
    def n_features(self) -> int:
        return self.n_pcs

    @property
    def weight_names(self) -> list[str]:
        return [f"w_{n}" for n in pc_names(self.n_pcs)]

    def raw(self, models: pd.DataFrame, what: str = "models") -> np.ndarray:
        validate.columns_present(models, self.benchmarks, what=what,
                                 fix="Pass benchmarks=[...] naming your benchmark columns.")
        return score_matrix(models, self.benchmarks, table=what)

    def usable(self, raw: np.ndarray) -> np.ndarray:
        return ~np.isnan(raw).all(axis=1)

    def check_training(self, raw: np.ndarray) -> None:
        check_capability_inputs(raw, self.benchmarks, self.n_pcs)

    def fit(self, raw: np.ndarray) -> CapabilityFit:
        return _capability_fit(raw.tobytes(), raw.shape, self.benchmarks, self.standardize)

    def transform(self, state: CapabilityFit, raw: np.ndarray) -> np.ndarray:
        if np.isnan(raw).all(axis=1).any():
            raise ScoreError(f"{int(np.isnan(raw).all(axis=1).sum())} model(s) have no score on "
                             f"any of {list(self.benchmarks)}: their capabilities are unknown.")
        return state.transform(raw, self.n_pcs)

    def fit_stack(self, raw: np.ndarray, idx: np.ndarray, point: CapabilityFit):
        Xs = raw[idx]
        # A resample in which a benchmark has fewer than two distinct observed scores cannot be
        # standardized: keep the original rows there and drop the draw.
        lo = np.min(np.where(np.isnan(Xs), np.inf, Xs), axis=1)
        hi = np.max(np.where(np.isnan(Xs), -np.inf, Xs), axis=1)
        valid = np.all(hi > lo, axis=1)
        Xs[~valid] = raw
        fit, imputed, _ = fit_capabilities(Xs, self.benchmarks, standardize=self.standardize)
        fit = fit.signs_to(point, self.n_pcs)
        train = project(imputed, fit, self.n_pcs)
        return fit, train, valid & fit.converged

    def key(self) -> tuple:
        return ("PCs", self.benchmarks, self.n_pcs, self.standardize)


@lru_cache(maxsize=64)
def _capability_fit(data: bytes, shape: tuple, benchmarks: tuple, standardize: bool
                    ) -> CapabilityFit:
    """One capability fit per distinct training matrix: predictors of several targets or
    numbers of PCs fitted on the same models share it (the fit is frozen, so sharing is safe)."""
    raw = np.frombuffer(data).reshape(shape)
    return fit_capabilities(raw, benchmarks, standardize=standardize)[0]


def make_features(predictor, *, n_pcs: int, benchmarks: Sequence[str], standardize: bool,
                  columns: Sequence[str]) -> Features:
    """The strategy named by ``predictor`` ('pc', 'log_flops', 'log_size', 'columns'), or a
    :class:`Features` instance passed through."""
    if isinstance(predictor, Features):
        return predictor
    validate.choice("predictor", predictor, ("pc", "log_flops", "log_size", "columns"))
    if (predictor == "columns") != bool(columns):
        raise ArgumentError("Name predictor columns with predictor='columns', "
                            "columns=('Arena-Elo',) (and only then).")
    if predictor == "pc":
        return PCs(tuple(validate.names("benchmarks", benchmarks)), n_pcs, standardize)
    if predictor == "log_flops":
        return LogFlops()
    if predictor == "log_size":
        return LogSize()
    return Columns(tuple(columns))
