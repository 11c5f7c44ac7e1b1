"""The figures' copies, drawn in worker processes while the book builds.

A chapter's :func:`osl.figures.publish` queues each figure (pickled, in
``_build/figures/.queue``). :class:`Renderer` hands every queued figure to a small pool of
worker processes, which check it (clipping, text size) and write its SVG, PDF and CSV copies
(:func:`osl.figures.render_one`). ``python -m osl.build`` runs one beside its kernels, with
workers forked from its warm process (the plotting code already imported); a plain Sphinx
build (``jupyter-book build``) runs one in its own process (see :mod:`osl.sphinxext`).

This module imports no plotting code: the process that submits figures need not load it.
"""
from __future__ import annotations

import os
from pathlib import Path

from . import paths
from .errors import OSLError

__all__ = ["Renderer", "queued"]


def queued() -> list[Path]:
    """The figures waiting for their copies, in label order."""
    queue = paths.figures_dir() / ".queue"
    return sorted(queue.glob("*.pickle")) if queue.is_dir() else []


def _start_worker(increment: int) -> None:
    """A worker's start: its priority, then the plotting code and both file formats' backends
    (imported once per worker rather than at its first figure)."""
    if increment and hasattr(os, "nice"):
        os.nice(increment)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.backends.backend_pdf  # noqa: F401
    import matplotlib.backends.backend_svg  # noqa: F401

    from . import figures  # noqa: F401


def _render(path: str) -> str:
    from .figures import render_one
    return str(render_one(Path(path)))


class Renderer:
    """Draws queued figures in a pool of worker processes (``workers`` of them) started by the
    multiprocessing context ``ctx`` (default: forked from this process where it can, else
    spawned), at the priority increment ``nice`` (a one-chapter build keeps its CPU for the
    chapter).

    :meth:`poll` submits what has been queued since the last call; :meth:`finish` submits the
    rest, waits for every figure and raises :class:`~osl.errors.OSLError` naming the first
    figure that failed its checks (the others are still written)."""

    def __init__(self, ctx=None, *, workers: int = 2, nice: int = 0):
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise OSLError(f"Renderer: workers must be a whole number >= 1, got {workers!r}.")
        if isinstance(nice, bool) or not isinstance(nice, int) or not 0 <= nice <= 19:
            raise OSLError(f"Renderer: nice must be a whole number from 0 to 19 (a priority "
                           f"increment), got {nice!r}.")
        self.ctx, self.workers, self.nice = ctx, workers, nice
        self.pool = None
        self.futures: dict[Path, object] = {}

    def _context(self):
        if self.ctx is None:
            import multiprocessing
            import threading
            fork = threading.active_count() == 1 and \
                "fork" in multiprocessing.get_all_start_methods()
            self.ctx = multiprocessing.get_context("fork" if fork else "spawn")
        return self.ctx

    def poll(self) -> int:
        """Submit the figures queued since the last call; returns how many."""
        new = [p for p in queued() if p not in self.futures]
        if new and self.pool is None:
            from concurrent.futures import ProcessPoolExecutor
            self.pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=self._context(),
                                            initializer=_start_worker, initargs=(self.nice,))
        for path in new:
            self.futures[path] = self.pool.submit(_render, str(path))
        return len(new)

    def finish(self) -> list[Path]:
        """Draw everything queued, wait for it; returns the SVG copies written."""
        self.poll()
        done, errors = [], []
        try:
            for path, fut in self.futures.items():
                try:
                    done.append(Path(fut.result()))
                except OSLError as exc:
                    errors.append(str(exc))
                except Exception as exc:  # noqa: BLE001 - a worker that died, or a bad pickle
                    errors.append(f"{path.name}: {type(exc).__name__}: {exc}")
        finally:
            if self.pool is not None:
                self.pool.shutdown()
            self.pool, self.futures = None, {}
        if errors:
            raise OSLError(errors[0] + (f" (and {len(errors) - 1} more figure(s) failed)"
                                        if len(errors) > 1 else ""))
        return done
