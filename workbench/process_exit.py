"""End a workbench process that has finished its work without tearing the interpreter down.

One job. A process that imported pandas, scipy, matplotlib, IPython and nbconvert (about
2,800 modules) spends about half a second at exit freeing them, module by module, before the
operating system would have reclaimed the memory at once anyway. ``workbench run`` pays it
twice on its critical path: it waits for each lane process to end before it writes the
index and scans the output, and the shell waits for ``workbench run`` itself (measured on
the county example at ``--jobs 2``: 0.57 s from a lane's last result to its exit, 0.66 s
from the published output to the end of ``workbench run``).

:func:`exit_now` keeps what an exit must do and skips only that teardown: the ``atexit``
handlers run (temporary folders, IPython's shell, multiprocessing, logging, coverage), standard
output and error are flushed, and the process ends with :func:`os._exit`. When another
non-daemon thread is still alive, or a stream cannot be flushed, it exits the usual way
instead (the interpreter then joins the thread, or reports the stream).
"""

from __future__ import annotations

import atexit
import os
import sys
import threading

__all__ = ["exit_now"]


def _other_threads_alive() -> bool:
    main = threading.main_thread()
    return any(t is not main and not t.daemon and t.is_alive() for t in threading.enumerate())


def exit_now(code: int | None = 0):
    """Exit with ``code`` now: ``atexit`` handlers, flushed streams, no interpreter teardown.

    Call it only from a program's entry point, after its work is done (files closed and
    written): objects are not finalized, so a file object still open with unwritten buffered
    data would lose it. Falls back to ``raise SystemExit(code)`` when a non-daemon thread is
    alive or a standard stream cannot be flushed.

    Parameters
    ----------
    code : int or None
        The exit status (None is 0), as for :class:`SystemExit`.

    Examples
    --------
    >>> import subprocess, sys
    >>> src = ("import atexit; atexit.register(print, 'atexit ran');"
    ...        "from workbench.process_exit import exit_now; print('done'); exit_now(3)")
    >>> res = subprocess.run([sys.executable, "-c", src], capture_output=True, text=True)
    >>> res.returncode, res.stdout.split()
    (3, ['done', 'atexit', 'ran'])
    """
    code = 0 if code is None else int(code)
    if _other_threads_alive():
        raise SystemExit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            raise SystemExit(code) from None
    os._exit(code)
