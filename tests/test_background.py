"""Computations on the second core (osl.background): the value, errors and warnings of calling
the function directly, computed in another process where fork exists; nothing is left behind."""
from __future__ import annotations

import gc
import os
import signal
import threading
import warnings

import nbformat
import numpy as np
import pytest

from osl import background, kernels
from osl.errors import ArgumentError, FitError, OSLError
from osl.predict import ScalingPredictor

forked = pytest.mark.skipif(not background.available(), reason="needs fork and two cores")


def pid_and_sum(a, scale=1.0):
    return os.getpid(), float(np.sum(a)) * scale


def failing():
    raise FitError("too few rows: give at least six")


def warning_then_value():
    warnings.warn("resample 3 did not converge", RuntimeWarning)
    return 5


@forked
def test_result_is_the_direct_value_computed_elsewhere():
    a = np.arange(10.0)
    job = background.submit(pid_and_sum, a, scale=2.0)
    pid, value = job.result()
    assert pid != os.getpid()
    assert value == 90.0
    assert job.result() == (pid, value)  # again, without recomputing


def test_serial_when_switched_off(monkeypatch):
    monkeypatch.setenv(background.ENV, "0")
    assert not background.available()
    pid, value = background.submit(pid_and_sum, np.ones(3)).result()
    assert pid == os.getpid() and value == 3.0


@forked
def test_a_library_fit_is_identical():
    rng = np.random.default_rng(1)
    import pandas as pd
    bench = [f"b{i}" for i in range(4)]
    cap = rng.normal(size=60)
    table = pd.DataFrame({b: 1 / (1 + np.exp(-(cap + rng.normal(0, 0.3, 60)))) for b in bench},
                         index=[f"m{i}" for i in range(60)])
    table["target"] = np.clip(1 / (1 + np.exp(-(2 * cap - 1))) + rng.normal(0, 0.02, 60), 0, 1)

    def fit():
        return ScalingPredictor(benchmarks=tuple(bench), n_pcs=2, reference=None).fit(
            table, "target").params_

    assert np.array_equal(background.submit(fit).result(), fit())


@forked
def test_errors_and_warnings_come_back():
    with pytest.raises(FitError, match="too few rows"):
        background.submit(failing).result()
    with pytest.warns(RuntimeWarning, match="resample 3"):
        assert background.submit(warning_then_value).result() == 5


@forked
def test_unpicklable_result_and_death_are_reported():
    with pytest.raises(OSLError, match="cannot be sent back"):
        background.submit(lambda: threading.Lock()).result()
    with pytest.raises(OSLError, match="died \\(signal 9\\).*OSL_BACKGROUND=0"):
        background.submit(lambda: os.kill(os.getpid(), signal.SIGKILL)).result()


@forked
def test_output_stays_out_and_nothing_is_left_behind(capfd):
    job = background.submit(print, "from the copy")
    assert job.result() is None
    assert "from the copy" not in capfd.readouterr().out
    forgotten = background.submit(pid_and_sum, np.ones(2))
    pid = forgotten._pid
    del forgotten
    gc.collect()
    with pytest.raises(ChildProcessError):  # killed and reaped
        os.waitpid(pid, os.WNOHANG)


def test_bad_argument():
    with pytest.raises(ArgumentError, match="function to call"):
        background.submit(42)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_in_a_kernel_with_its_threads(tmp_path):
    """In a Jupyter kernel (other threads running), the copy computes and the notebook shows
    only the parent's output."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import os, numpy as np\n"
        "from osl import background\n"
        "job = background.submit(lambda: (print('hidden'), os.getpid(), np.ones(4).sum()))\n"
        "_, pid, s = job.result()\n"
        "print(s, pid != os.getpid() or not background.available())")])
    kernels.run_notebook(nb, tmp_path)
    assert [o.get("text") for o in nb.cells[0].outputs] == ["4.0 True\n"]


def test_only_the_copys_own_finalizers_run():
    """The copy releases what it created (as a normal exit would), not what it inherited."""
    from multiprocessing import util

    class Thing:
        pass

    ran = []
    old, new = Thing(), Thing()
    first = util.Finalize(old, ran.append, ("inherited",), exitpriority=0)
    inherited = background._finalizers()
    util.Finalize(new, ran.append, ("own",), exitpriority=0)
    background._run_own_finalizers(inherited)
    assert ran == ["own"]
    first()  # the parent's, released by the parent
    assert ran == ["own", "inherited"]
