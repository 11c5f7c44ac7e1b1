"""The 31 headline fits give the same held-out predictions as before the library redesign.

``snapshots/headline_predictions.json`` was written by the library at commit 662b8fc (before the
redesign), fitting each target on its own with the old single-module API; the redesigned library
fits them as the chapters now do (several targets per call, shared capability fits, batched
link solves). Any change beyond floating-point noise is a change in a number the book shows.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from osl.bench import headline_fits, headline_tables

SNAPSHOT = Path(__file__).parent / "snapshots" / "headline_predictions.json"


@pytest.fixture(scope="module")
def fits():
    return headline_fits(headline_tables())


def test_all_31_fits_are_there(fits):
    ref = json.loads(SNAPSHOT.read_text())
    assert len(ref) == 31 and set(fits) == set(ref)


@pytest.mark.parametrize("key", sorted(json.loads(SNAPSHOT.read_text())))
def test_same_held_out_predictions_as_before(fits, key):
    ref = json.loads(SNAPSHOT.read_text())[key]
    got = fits[key]
    if isinstance(ref, list):  # the capability space's explained-variance ratios
        np.testing.assert_allclose(got.to_numpy(), ref, rtol=0, atol=1e-10)
        return
    assert sorted(got.index) == sorted(ref), "a different set of held-out models"
    np.testing.assert_allclose(got[list(ref)].to_numpy(), list(ref.values()), rtol=0, atol=1e-8)
