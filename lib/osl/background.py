"""Independent computations of a chapter on the second core.

``job = background.submit(fn, *args, **kwargs)`` starts ``fn(*args, **kwargs)`` in a forked
copy of this process and returns at once; ``job.result()`` waits for it and returns what ``fn``
returned (or raises what it raised). A chapter submits its independent heavy computations
first and collects them where it needs them, so that on a machine with two cores the second
one computes while the first goes on: the chapter's numbers are exactly those of calling
``fn`` directly (the same code on the same inputs; the tests compare them).

The copy is forked, so it starts at once with everything already imported and computed, and
it only computes: it writes nothing to the notebook (its output goes nowhere; warnings it
raises are sent back and raised again by ``result()``), holds no resources the parent uses,
and leaves without running the parent's exit handlers. That is safe in a Jupyter kernel,
whose other threads the copy does not have and whose channels it never touches.

Where ``fork`` does not exist (Windows), on a single core, or with ``OSL_BACKGROUND=0``,
``result()`` calls ``fn`` itself: the same results, one after the other.
"""
from __future__ import annotations

import os
import pickle
import signal
import sys
import tempfile
import traceback
import warnings

from .errors import ArgumentError, OSLError

__all__ = ["submit", "Job", "available", "ENV"]

ENV = "OSL_BACKGROUND"
"""The environment variable that, set to ``0``, makes :func:`submit` compute in this process."""


def available() -> bool:
    """Whether :func:`submit` computes in a forked process: ``fork`` exists, the machine has
    more than one core and ``$OSL_BACKGROUND`` is not ``0``."""
    return (hasattr(os, "fork") and sys.platform != "win32" and (os.cpu_count() or 1) > 1
            and os.environ.get(ENV, "1") != "0")


class Job:
    """A computation started by :func:`submit`; :meth:`result` returns its value."""

    def __init__(self, fn, args, kwargs):
        self._call = (fn, args, kwargs)
        self._pid = None
        self._path = None
        self._done = False
        self._value = None
        if available():
            self._start()

    def _start(self) -> None:
        fd, self._path = tempfile.mkstemp(prefix="osl-background-", suffix=".pickle")
        sys.stdout.flush()
        sys.stderr.flush()
        with warnings.catch_warnings():
            # Python 3.12+ warns about forking a process with threads (a kernel has some);
            # the copy runs only this computation, in its one thread.
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # the copy: compute, write the outcome, leave
            code = 0
            inherited = _finalizers()
            try:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 1)
                os.dup2(devnull, 2)
                sys.stdout = sys.stderr = open(os.devnull, "w")
                fn, args, kwargs = self._call
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("default")
                    try:
                        outcome = ("ok", fn(*args, **kwargs))
                    except BaseException as exc:  # noqa: BLE001 - sent to the parent
                        outcome = ("error", exc, traceback.format_exc())
                sent = [(str(w.message), w.category, w.filename, w.lineno) for w in caught]
                with os.fdopen(fd, "wb") as fh:
                    try:
                        pickle.dump(outcome + (sent,), fh, protocol=pickle.HIGHEST_PROTOCOL)
                    except Exception as exc:  # noqa: BLE001 - e.g. an unpicklable result
                        fh.seek(0)
                        fh.truncate()
                        pickle.dump(("error", None, f"its result cannot be sent back: {exc}",
                                     sent), fh)
            except BaseException:  # noqa: BLE001
                code = 1
            finally:
                try:  # release what the computation created (a progress bar's lock), and
                    # only that: the parent's resources stay the parent's
                    _run_own_finalizers(inherited)
                finally:
                    os._exit(code)
        os.close(fd)
        self._pid = pid

    def result(self):
        """Wait for the computation and return its value (again on later calls); raises what
        the computation raised."""
        if not self._done:
            if self._pid is None:
                fn, args, kwargs = self._call
                self._value = fn(*args, **kwargs)
            else:
                self._value = self._collect()
            self._done = True
            self._call = None
        return self._value

    def _collect(self):
        pid, self._pid = self._pid, None
        try:
            _, status = os.waitpid(pid, 0)
            code = os.waitstatus_to_exitcode(status)
            try:
                with open(self._path, "rb") as fh:
                    outcome = pickle.load(fh)
            except (OSError, EOFError, pickle.UnpicklingError):
                what = f"signal {-code}" if code < 0 else f"exit code {code}"
                raise OSLError(f"background computation {self._name()} died ({what}) before "
                               "returning; run it with OSL_BACKGROUND=0 to see why.") from None
        finally:
            os.unlink(self._path)
        *outcome, sent = outcome
        for message, category, filename, lineno in sent:
            warnings.warn_explicit(message, category, filename, lineno)
        if outcome[0] == "ok":
            return outcome[1]
        _, exc, text = outcome
        if exc is None:
            raise OSLError(f"background computation {self._name()}: {text}")
        raise exc

    def _name(self) -> str:
        fn = self._call[0] if self._call else None
        return getattr(fn, "__qualname__", repr(fn))

    def __del__(self):  # never collected: do not leave the copy behind
        pid = getattr(self, "_pid", None)
        if pid is not None:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                os.unlink(self._path)
            except OSError:
                pass


def _finalizers() -> set:
    from multiprocessing import util
    return set(getattr(util, "_finalizer_registry", {}))


def _run_own_finalizers(inherited: set) -> None:
    """Run the multiprocessing finalizers registered in the copy (not those it inherited),
    as a normal exit would: a lock the computation created is released, not reported as
    leaked by the parent's resource tracker."""
    from multiprocessing import util
    registry = getattr(util, "_finalizer_registry", {})
    for key in sorted((k for k in registry if k not in inherited and k[0] is not None),
                      reverse=True):
        finalizer = registry.get(key)
        if finalizer is not None:
            try:
                finalizer()
            except Exception:  # noqa: BLE001 - leaving anyway
                pass


def submit(fn, /, *args, **kwargs) -> Job:
    """Start ``fn(*args, **kwargs)`` on another core (see the module docstring) and return a
    :class:`Job`; its ``result()`` is what ``fn`` returns."""
    if not callable(fn):
        raise ArgumentError(f"submit needs a function to call, got {type(fn).__name__}.")
    return Job(fn, args, kwargs)
