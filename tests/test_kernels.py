"""Warm kernels (osl.kernels): a notebook executed in a kernel forked from a warm process gives
what a cold kernel gives, in its own folder and namespace; failures are reported, and no
kernel process outlives its notebook."""
from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

from osl import kernels

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")

SECRET = "only_in_the_parent"


def notebook(*sources):
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])


def outputs(nb):
    return [[{k: v for k, v in o.items() if k != "execution_count"} for o in c.outputs]
            for c in nb.cells]


def test_forked_kernel_gives_what_a_cold_kernel_gives(tmp_path):
    (tmp_path / "here.txt").write_text("found")
    sources = ("import os; print(open('here.txt').read(), os.getcwd() == %r)" % str(tmp_path),
               "print('SECRET' in globals(), __name__)",
               "from osl.report import glue; glue('x', 2.5); 6 * 7",
               "from IPython.display import HTML; HTML('<b>table</b>')")
    warm = kernels.run_notebook(notebook(*sources), tmp_path, warm=True)
    cold = kernels.run_notebook(notebook(*sources), tmp_path, warm=False)
    assert outputs(warm) == outputs(cold)
    assert warm.cells[0].outputs[0]["text"] == "found True\n"  # started in the folder given
    assert warm.cells[1].outputs[0]["text"] == "False __main__\n"  # a fresh namespace
    assert warm.cells[2].outputs[-1]["data"]["text/plain"] == "42"


def test_a_failing_cell_raises_and_leaves_no_kernel_behind(tmp_path):
    from nbclient.exceptions import CellExecutionError
    before = set(os.listdir("/proc")) if os.path.isdir("/proc") else set()
    with pytest.raises(CellExecutionError, match="ZeroDivisionError"):
        kernels.run_notebook(notebook("x = 1", "1 / 0", "print('never')"), tmp_path, warm=True)
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # every forked kernel has been reaped
    after = set(os.listdir("/proc")) if os.path.isdir("/proc") else set()
    for pid in after - before:
        if pid.isdigit():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            assert f"PPid:\t{os.getpid()}\n" not in status, "a kernel outlived its notebook"


def _square(x):
    if x == 3:
        raise ValueError("three is not allowed")
    if x == 4:
        os._exit(9)
    return x * x


def test_run_each_reports_results_and_errors_per_item():
    got = {arg: (res, err) for arg, res, err in kernels.run_each(_square, [1, 2, 3, 4], 2)}
    assert got[1] == (1, None) and got[2] == (4, None)
    assert got[3] == (None, "three is not allowed")
    assert got[4][0] is None and "exit code 9" in got[4][1]


def test_no_fork_while_another_thread_runs(tmp_path):
    """A process with a second thread running gets a cold kernel (forking it could leave a
    lock held in the child); the notebook still runs."""
    import threading
    stop = threading.Event()
    t = threading.Thread(target=stop.wait, daemon=True)
    t.start()
    try:
        assert not kernels.can_fork()
        nb = kernels.run_notebook(notebook("print(6 * 7)"), tmp_path)
        assert nb.cells[0].outputs[0]["text"] == "42\n"
    finally:
        stop.set()
        t.join()
    assert kernels.can_fork() == (threading.active_count() == 1)


def test_run_each_refuses_a_bad_number_of_jobs():
    from osl.errors import ArgumentError
    for jobs in (0, -1, 1.5, True):
        with pytest.raises(ArgumentError, match="jobs must be a whole number"):
            list(kernels.run_each(_square, [1], jobs))
    with pytest.raises(ArgumentError, match="tick must be a function"):
        list(kernels.run_each(_square, [1], 1, tick="often"))
    for every in (0, -1.0, "1", True):
        with pytest.raises(ArgumentError, match="every must be a number of seconds"):
            list(kernels.run_each(_square, [1], 1, tick=lambda: None, every=every))


def _result_then_clean_up(path):
    yield f"result for {path}"
    with open(path, "w") as fh:  # after the result has been sent
        fh.write("cleaned up")


def test_run_each_sends_a_generators_result_before_its_clean_up(tmp_path):
    """A generator's first value is its result; the rest (a kernel's shutdown, in the build)
    runs after the parent has it, and has finished when run_each does."""
    paths = [str(tmp_path / f"{i}.txt") for i in range(3)]
    ticks = []
    got = {a: r for a, r, e in kernels.run_each(_result_then_clean_up, paths, 2,
                                                tick=lambda: ticks.append(1), every=0.01)}
    assert got == {p: f"result for {p}" for p in paths}
    assert all(Path(p).read_text() == "cleaned up" for p in paths)
    assert ticks  # called while waiting
