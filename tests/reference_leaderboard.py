"""Test-only reference: the authors' Leaderboard-v2 analysis, written plainly from its description.

Independent of the library's loaders, capability fits and solver: the released CSV files are
read with pandas, merged on the model name and filtered to the families of known compute; the
split is ``FLOPs <= cutoff`` (a missing FLOPs value falls on the held-out side); imputation is
the released procedure (standardize, fill with the column mean, repeat a 1-component PCA
reconstruction of the missing cells up to 1,000 rounds, stopping when *every* cell is within
1e-4 of its reconstruction, unstandardize, clip to [0, 1]), fitted on the training models and
applied to the held-out ones; PCA with 5 components on the unstandardized scores; the target is
min-max normalised to (chance, 1); the link is a plain sigmoid ``sigmoid(c + w . x)`` whose
summed Huber loss (delta 1) is minimised by BFGS from ``c = 0, w = 0.01``; log-FLOPs and
log-size are natural logs of ``FLOPs (1E21)`` and ``Model Size (B)``, rows without them dropped.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler

from osl import data, presets

BENCH7 = ["MMLU", "ARC-C", "HellaSwag", "Winograd", "TruthfulQA", "XWinograd", "HumanEval"]
UPSTREAM = {"lbv2_bbh": "leaderboard_bbh", "lbv2_gpqa": "leaderboard_gpqa",
            "lbv2_math_hard": "leaderboard_math_hard"}
CHANCE = {"lbv2_bbh": float(np.mean(list(presets.BBH_CHANCE.values()))), "lbv2_gpqa": 0.25,
          "lbv2_math_hard": 0.0}
CUTOFF = {"lbv2_bbh": 84.0, "lbv2_gpqa": 168.0, "lbv2_math_hard": 252.0}


def merged_table() -> pd.DataFrame:
    """The base table merged with the leaderboard, families of known compute only."""
    base = pd.read_csv(data.fetch("base_llm_benchmark_eval.csv"))
    lb = pd.read_csv(data.fetch("base_llm_leaderboard_v2_eval.csv"))
    df = pd.merge(base, lb, on="Model")
    keep = sorted(presets.CORE_FAMILIES - presets.UNKNOWN_FLOPS_FAMILIES)
    return df[df["Model Family"].isin(keep)].reset_index(drop=True)


def _impute(train: pd.DataFrame, test: pd.DataFrame, tol: float = 1e-4, rounds: int = 1000):
    scaler = StandardScaler()
    ztr = scaler.fit_transform(train)
    means = np.nanmean(ztr, axis=0)
    miss_tr = train.isna().to_numpy()
    ztr = np.where(np.isnan(ztr), means, ztr)
    for _ in range(rounds):
        pca = PCA(n_components=1)
        rec = pca.inverse_transform(pca.fit_transform(ztr))
        if np.allclose(ztr, rec, atol=tol):
            break
        ztr[miss_tr] = rec[miss_tr]
    zte = scaler.transform(test)
    miss_te = test.isna().to_numpy()
    zte = np.where(np.isnan(zte), means, zte)
    for _ in range(rounds):
        rec = pca.inverse_transform(pca.transform(zte))
        if np.allclose(zte, rec, atol=tol):
            break
        zte[miss_te] = rec[miss_te]
    return (np.clip(scaler.inverse_transform(ztr), 0, 1),
            np.clip(scaler.inverse_transform(zte), 0, 1))


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _huber_fit(X: np.ndarray, y: np.ndarray, delta: float = 1.0) -> np.ndarray:
    A = np.column_stack([np.ones(len(X)), X])

    def objective(p):
        r = _sigmoid(A @ p) - y
        a = np.abs(r)
        return np.where(a <= delta, 0.5 * r ** 2, delta * (a - 0.5 * delta)).sum()

    p0 = np.concatenate([[0.0], np.full(X.shape[1], 1e-2)])
    return minimize(objective, p0, method="BFGS").x


def reference_test_mse(target: str, predictor: str, cutoff: float | None = None) -> float:
    """Held-out MSE (normalised scale) of ``predictor`` in {"pc3", "logflops", "logsize"}."""
    df = merged_table()
    chance = CHANCE[target]
    df["y"] = (df[UPSTREAM[target]] - chance) / (1.0 - chance)
    df = df.dropna(subset=["y"])
    cut = CUTOFF[target] if cutoff is None else cutoff
    is_train = (df["FLOPs (1E21)"] <= cut).to_numpy()  # NaN compares False: held out
    train, test = df[is_train].copy(), df[~is_train].copy()
    if predictor == "pc3":
        Xtr, Xte = _impute(train[BENCH7], test[BENCH7])
        pca = PCA(n_components=5).fit(Xtr)
        Ptr, Pte = pca.transform(Xtr)[:, :3], pca.transform(Xte)[:, :3]
    else:
        col = "FLOPs (1E21)" if predictor == "logflops" else "Model Size (B)"
        train, test = train.dropna(subset=[col]), test.dropna(subset=[col])
        Ptr = np.log(train[[col]].to_numpy() + 1e-9)
        Pte = np.log(test[[col]].to_numpy() + 1e-9)
    p = _huber_fit(Ptr, train["y"].to_numpy())
    pred = _sigmoid(np.column_stack([np.ones(len(Pte)), Pte]) @ p)
    return float(np.mean((pred - test["y"].to_numpy()) ** 2))
