"""Real servers for tests and benches: Dovecot (IMAP) and Radicale (CalDAV/CardDAV).

Each server runs as a child process on a free loopback port with everything it writes in a
temporary directory, and is stopped when its fixture (session-scoped, so once per xdist
worker) or context manager ends.
"""

import ctypes
import signal
import socket
import subprocess
import time


class ServerDidNotStart(RuntimeError):
    pass


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_listening(process, port, *, what, timeout=20.0, log_path=None):
    """Return once `port` accepts connections; raise with the server's log if it exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            pass
        try:
            # Waiting on the process doubles as the pause between attempts and notices a crash.
            process.wait(timeout=0.05)
        except subprocess.TimeoutExpired:
            continue
        break
    log = log_path.read_text(errors="replace")[-2000:] if log_path and log_path.exists() else ""
    stop(process)
    raise ServerDidNotStart(f"{what} did not start on port {port}:\n{log}")


def die_with_parent():
    """preexec_fn: the server gets SIGTERM when the test process dies (a killed xdist worker
    would otherwise leave it running)."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def stop(process):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
