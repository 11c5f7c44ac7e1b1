"""The library's logistic function and its inverse agree bit for bit with scipy.special's (the
library uses its own so that importing it does not import scipy)."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
from scipy import special

from osl._special import expit, logit


def test_expit_and_logit_match_scipy_bit_for_bit():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 5, 200_000), rng.uniform(-800, 800, 20_000),
                        [0.0, -0.0, np.inf, -np.inf, np.nan, -745.0, 710.0]])
    p = np.concatenate([rng.uniform(0, 1, 200_000), rng.uniform(0.29, 0.66, 20_000),
                        [0.0, 1.0, 0.5, 0.3, 0.65, np.nan, -0.1, 1.1, 1e-300]])
    assert np.array_equal(expit(x), special.expit(x), equal_nan=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        assert np.array_equal(logit(p), special.logit(p), equal_nan=True)
    assert expit(0.25) == special.expit(0.25) and np.ndim(expit(0.25)) == 0
    assert logit(0.2) == special.logit(0.2) and np.ndim(logit(0.2)) == 0
    assert expit(x[:6].reshape(2, 3)).shape == (2, 3)


def test_fitting_and_predicting_do_not_import_scipy():
    code = ("import sys, numpy as np, osl\n"
            "from osl.predict import ScalingPredictor\n"
            "from osl import data\n"
            "em = data.load_emergent()\n"
            "ScalingPredictor(n_pcs=2).fit(em, 'arithmetic_2da_2_acc').predict(em)\n"
            "print('scipy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-1] == "False"
