"""The README's own-table snippet runs as written, on a table without Llama-2, without FLOPs,
with the user's own benchmark names, and fits three targets in one call."""
from __future__ import annotations

import contextlib
import io
import re

import numpy as np
import pandas as pd

import osl
from osl import paths
from osl.examples import EXAMPLE_FILE, TARGETS, make_example_table


def readme_snippet() -> str:
    text = (paths.PROJECT_ROOT / "README.md").read_text()
    section = text.split("## Using the library on your own table", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_example_file_is_the_generator_output():
    got = pd.read_csv(EXAMPLE_FILE)
    pd.testing.assert_frame_equal(got, make_example_table(), check_dtype=False, atol=1e-12)
    assert got.shape == (30, 9) and "Llama-2" not in got.to_string()


def test_readme_snippet_runs(monkeypatch):
    monkeypatch.chdir(paths.PROJECT_ROOT)
    ns: dict = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(readme_snippet(), "README.md", "exec"), ns)
    fits, boot, models, train = ns["fits"], ns["boot"], ns["models"], ns["train"]
    assert fits.targets == list(TARGETS)
    pred = boot.predict(models[~train], level=0.8)
    assert len(pred) == 3 * (~train).sum()
    assert (pred["lower"] <= pred["mean"]).all() and (pred["mean"] <= pred["upper"]).all()
    assert "agent_tasks" in out.getvalue()


def test_snippet_forecasts_are_close_to_the_known_truth():
    """The example's targets are known sigmoids of its first latent capability: forecasts of the
    six unmeasured models must be close to the noiseless truth (the median error; the
    strongest model is the farthest extrapolation and may miss more)."""
    from scipy.special import expit

    from osl.examples import TRUE_LINKS
    models = osl.read_table(EXAMPLE_FILE)
    train = models["agent_tasks"].notna()
    fits = osl.fit_targets(models, list(TARGETS), train, benchmarks=list(osl.examples.BENCHMARKS),
                           n_pcs=1, reference=None)
    rng = np.random.default_rng(7)  # regenerate the latent capability exactly as the generator
    general = np.sort(rng.normal(size=30))
    for t, (c, w, b) in TRUE_LINKS.items():
        truth = (1 - b) * expit(c + w * general[~train.to_numpy()]) + b
        err = fits.predict(models[~train])[t].to_numpy() - truth
        assert np.median(np.abs(err)) < 0.06, (t, err)
