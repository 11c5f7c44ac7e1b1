"""Warm kernels: the book's notebooks run in kernels forked from a process that has already
imported the libraries every chapter uses.

A fresh kernel starts Python and imports ipykernel; the chapter's first cell then imports
numpy, pandas, matplotlib and this library: about two seconds of CPU before any work,
paid again by every chapter. The executor of ``python -m osl.build`` runs its workers under a
fork server that has imported :data:`WARM_MODULES` once; :func:`run_notebook` forks the kernel
from its worker. The child is an ordinary ipykernel (fresh namespace, started in the notebook's
folder, the same environment) and nbclient drives it as usual, so the executed notebook is
the one a cold kernel produces. Where ``fork`` does not exist, or another thread runs in the
process, a cold kernel is used.
"""
from __future__ import annotations

import os
import signal
import sys
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

#: What the warm process imports (those a chapter's first cell imports, and the kernel's own).
WARM_MODULES = (
    "numpy", "pandas", "pandas.io.formats.style", "matplotlib", "matplotlib.pyplot", "IPython",
    "ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.debugger", "myst_nb", "jupytext",
    "nbformat", "nbclient",
    "osl", "osl.data", "osl.figures", "osl.tables", "osl.report", "osl.reported", "osl.presets",
    "osl.capability", "osl.space", "osl.compute", "osl.predict", "osl.predict.chapters",
    "osl.predict.verdicts", "osl.predict.baselines", "osl.predict.trust",
    "osl.predict.calibration", "osl.selection", "osl.ood", "osl.multipliers", "osl.examples",
)


def can_fork() -> bool:
    """Whether a kernel can be forked from this process: ``fork`` exists and no other thread
    runs (a thread holding a lock at the fork would leave it held in the kernel)."""
    import threading
    return hasattr(os, "fork") and sys.platform != "win32" and threading.active_count() == 1


def warm_context():
    """A multiprocessing context whose processes start from a fork server that imports
    :data:`WARM_MODULES` (started now, in the background), or a spawning context where fork
    servers do not exist."""
    import multiprocessing
    if not hasattr(os, "fork") or sys.platform == "win32":
        return multiprocessing.get_context("spawn")
    # The kernels run with the backend the build uses; pyplot picks it when it is imported.
    os.environ.setdefault("MPLBACKEND", "Agg")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(list(WARM_MODULES))
    from multiprocessing import forkserver
    forkserver.ensure_running()  # launches the server; its imports run beside the caller
    return ctx


def _error_text(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[-1][:300] if text else type(exc).__name__


def _child(fn, arg, conn) -> None:
    import inspect
    try:
        result = fn(arg)
        if inspect.isgenerator(result):  # its first value is the result; the rest, clean-up
            value = next(result)
            conn.send(("ok", value))
            conn.close()
            for _ in result:
                pass
            return
        conn.send(("ok", result))
    except BaseException as exc:  # noqa: BLE001 - sent to the parent, which reports it
        if not conn.closed:
            conn.send(("error", _error_text(exc)))
        else:  # the clean-up after the result failed: shown, as an uncaught error would be
            import traceback
            traceback.print_exc()
    finally:
        if not conn.closed:
            conn.close()


def run_each(fn, args: list, jobs: int, ctx=None, *, tick=None, every: float = 0.25):
    """``fn(arg)`` for every arg, each in a fresh process of ``ctx`` (default
    :func:`warm_context`), ``jobs`` at a time. Yields ``(arg, result, None)`` or
    ``(arg, None, error text)`` as each finishes. ``fn`` must be importable (a module-level
    function) and its result picklable. A generator ``fn`` yields its result first and is
    then run to its end (its clean-up, after the result has been sent). ``tick()``, if
    given, is called every ``every`` seconds while waiting."""
    from multiprocessing.connection import wait

    from .errors import ArgumentError
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ArgumentError(f"run_each: jobs must be a whole number >= 1, got {jobs!r}.")
    if tick is not None and not callable(tick):
        raise ArgumentError(f"run_each: tick must be a function of no arguments, got {tick!r}.")
    if isinstance(every, bool) or not isinstance(every, (int, float)) or not every > 0:
        raise ArgumentError(f"run_each: every must be a number of seconds > 0, got {every!r}.")
    ctx = ctx or warm_context()
    pending, running, finishing = list(args), {}, []
    try:
        while pending or running:
            while pending and len(running) < jobs:
                arg = pending.pop(0)
                r, w = ctx.Pipe(duplex=False)
                proc = ctx.Process(target=_child, args=(fn, arg, w), daemon=True)
                proc.start()
                w.close()
                running[r] = (proc, arg)
            ready = wait(list(running), timeout=every if tick else None)
            if tick:
                tick()
            for r in ready:
                proc, arg = running.pop(r)
                try:
                    status, value = r.recv()
                except EOFError:
                    proc.join()
                    status, value = "error", f"its process died (exit code {proc.exitcode})"
                r.close()
                finishing.append(proc)  # a generator's process may still be cleaning up
                yield (arg, value, None) if status == "ok" else (arg, None, value)
        for proc in finishing:
            proc.join()
    finally:
        for proc, _ in running.values():
            proc.terminate()


class _Forked:
    """A forked kernel's handle, with the part of ``Popen``'s interface the provisioner uses."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode = None

    def _reap(self, flags: int) -> None:
        try:
            pid, status = os.waitpid(self.pid, flags)
        except ChildProcessError:
            self.returncode = 0 if self.returncode is None else self.returncode
            return
        if pid:
            self.returncode = os.waitstatus_to_exitcode(status)

    def poll(self):
        if self.returncode is None:
            self._reap(os.WNOHANG)
        return self.returncode

    def wait(self, timeout=None):
        if self.returncode is None:
            self._reap(0)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def _kernel_main(connection_file: str, cwd: str) -> None:
    """The forked child: become an ordinary ipykernel (never returns)."""
    code = 0
    try:
        os.setsid()  # its own process group, as a launched kernel has: signals reach it alone
        os.chdir(cwd)
        import asyncio
        asyncio.set_event_loop_policy(None)  # nothing of the parent's event loop is reused
        from ipykernel.kernelapp import IPKernelApp
        # The parent's pid, as jupyter_client gives it: the kernel exits if the executor dies.
        IPKernelApp.launch_instance(argv=["-f", connection_file,
                                          f"--IPKernelApp.parent_handle={os.getppid()}"])
    except BaseException:  # noqa: BLE001 - report, then leave without the parent's clean-up
        import traceback
        traceback.print_exc()
        code = 1
    finally:
        try:  # what a normal exit would do: run multiprocessing's finalizers, so that locks
            # a chapter created (progress bars make one) are released, not reported as leaked
            from multiprocessing import util
            util._exit_function()
        finally:
            os._exit(code)


#: How long a new kernel's IOPub channel is read, once it has answered, for what it said while
#: starting (messages that belong to no cell; nbclient would skip them anyway).
DRAIN_SECONDS = 0.01


def _manager_class():
    import time
    from queue import Empty

    from jupyter_client.asynchronous import AsyncKernelClient
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_client.provisioning import LocalProvisioner
    from traitlets import default

    class ReadyClient(AsyncKernelClient):
        """A client that is ready as soon as the kernel has answered ``kernel_info`` and its
        IOPub channel is connected (a message has arrived on it). The stock client then waits
        for 0.2 s of silence on IOPub before the first cell: on every chapter's critical
        path, for nothing."""

        async def _async_wait_for_ready(self, timeout=None):
            deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
            while True:
                self.kernel_info()
                try:
                    reply = await self.shell_channel.get_msg(timeout=1)
                except Empty:
                    reply = None
                if reply is not None and reply["msg_type"] == "kernel_info_reply":
                    try:  # IOPub connected? (else its first messages could be lost: retry)
                        await self.iopub_channel.get_msg(timeout=0.2)
                    except Empty:
                        pass
                    else:
                        self._handle_kernel_info_reply(reply)
                        break
                if not await self._async_is_alive():
                    raise RuntimeError("Kernel died before replying to kernel_info")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")
            while True:  # what it said while starting, without waiting for silence
                try:
                    await self.iopub_channel.get_msg(timeout=DRAIN_SECONDS)
                except Empty:
                    break

        wait_for_ready = _async_wait_for_ready  # (the stock name is bound to the stock method)

    class ForkProvisioner(LocalProvisioner):
        """Adopts the kernel forked before the manager started instead of launching one."""

        async def launch_kernel(self, cmd, **kwargs):
            self.process = self.parent.forked
            self.pid = self.pgid = self.process.pid
            self.cwd = kwargs.get("cwd")
            return self.connection_info

    class ForkKernelManager(AsyncKernelManager):
        forked = None

        @default("client_factory")
        def _ready_client(self):
            return ReadyClient

        async def _async_pre_start_kernel(self, **kw):
            self.kernel_id = self.kernel_id or str(uuid.uuid4())
            if self.provisioner is None:
                self.provisioner = ForkProvisioner(kernel_id=self.kernel_id,
                                                   kernel_spec=self.kernel_spec, parent=self)
            return await super()._async_pre_start_kernel(**kw)

    return ForkKernelManager


def _options(cwd, timeout: int) -> dict:
    # No per-cell timing metadata: jupyter-cache hashes cell metadata, and the Sphinx pass must
    # find an executed notebook under the hash of its unexecuted source.
    return dict(kernel_name="python3", timeout=timeout, record_timing=False,
                resources={"metadata": {"path": str(cwd)}})


@contextmanager
def kernel_client(nb, cwd: str | Path, *, timeout: int = 600, warm: bool | None = None):
    """An nbclient ``NotebookClient`` for ``nb`` whose kernel is running, started in ``cwd``:
    forked from this process when it can (``warm``; default: where fork exists), else a cold
    kernel. Run cells with its ``execute_cell``; the kernel is shut down on leaving."""
    from nbclient import NotebookClient

    if warm is None:
        warm = can_fork()
    if not warm:
        client = NotebookClient(nb, **_options(cwd, timeout))
        with client.setup_kernel():
            yield client
        return
    from jupyter_client.connect import write_connection_file

    fd, fname = tempfile.mkstemp(prefix="osl-kernel-", suffix=".json")
    os.close(fd)
    fname, _ = write_connection_file(fname, ip="127.0.0.1", key=uuid.uuid4().hex.encode())
    pid = os.fork()
    if pid == 0:
        _kernel_main(fname, str(cwd))
    km = _manager_class()(kernel_name="python3", cache_ports=False)
    km.forked = _Forked(pid)
    km.load_connection_file(fname)
    km.connection_file = fname
    km._connection_file_written = True  # the kernel already reads this file
    try:
        client = NotebookClient(nb, km=km, **_options(cwd, timeout))
        with client.setup_kernel(cleanup_kc=True):
            yield client
    finally:
        if km.forked.poll() is None:
            km.forked.kill()
        km.forked.wait()
        Path(fname).unlink(missing_ok=True)


def run_notebook(nb, cwd: str | Path, *, timeout: int = 600, warm: bool | None = None):
    """Execute the notebook ``nb`` (in place) in a kernel started in ``cwd``, forked from this
    process when it can (see :func:`kernel_client`); returns it."""
    from nbclient import NotebookClient

    if warm is None:
        warm = can_fork()
    if not warm:
        NotebookClient(nb, **_options(cwd, timeout)).execute()
        return nb
    with kernel_client(nb, cwd, timeout=timeout, warm=True) as client:
        client.execute()  # the kernel is this block's: execute leaves it running
    return nb
