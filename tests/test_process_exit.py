"""workbench.process_exit: a finished process ends without interpreter teardown, but with
its atexit handlers, flushed streams and exit status; it exits the usual way when another
thread still runs."""

import subprocess
import sys
import textwrap


def _run(src: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(src)], capture_output=True,
                          text=True, timeout=60)


def test_exit_now_runs_atexit_flushes_and_keeps_the_status(tmp_path):
    res = _run(f"""
        import atexit, sys, tempfile
        from pathlib import Path
        from workbench.process_exit import exit_now
        tmp = tempfile.TemporaryDirectory(dir={str(tmp_path)!r})   # removed by its finalizer
        atexit.register(lambda: Path({str(tmp_path / 'atexit.txt')!r}).write_text('ran'))
        sys.stdout.write('buffered, not yet flushed')
        sys.stderr.write('err text')

        class Finalized:
            def __del__(self):
                print('teardown ran')
        keep = Finalized()      # a module global: finalized only by the interpreter's teardown
        exit_now(7)
        print('not reached')
    """)
    assert res.returncode == 7
    assert res.stdout == "buffered, not yet flushed"   # flushed; no teardown, nothing after
    assert res.stderr == "err text"
    assert (tmp_path / "atexit.txt").read_text() == "ran"
    assert list(tmp_path.iterdir()) == [tmp_path / "atexit.txt"]  # the temporary folder is gone


def test_exit_now_exits_the_usual_way_while_a_thread_runs():
    res = _run("""
        import threading, time
        from workbench.process_exit import exit_now

        def work():
            time.sleep(0.3)
            print('thread finished', flush=True)
        threading.Thread(target=work).start()
        exit_now(3)
    """)
    assert res.returncode == 3
    assert res.stdout == "thread finished\n"   # joined, as sys.exit would


def test_exit_now_none_is_success():
    res = _run("from workbench.process_exit import exit_now; exit_now(None)")
    assert res.returncode == 0, res.stderr
