"""The Gunicorn servers of a benchmark, and what /proc tells of their workers.

Each server runs `gunicorn --config config/gunicorn.conf.py APP`, the command of `make serve`,
in its own session, so that Ctrl-C reaches the benchmark, which stops them in order.
"""

import contextlib
import http.client
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
GUNICORN_CONFIG = "config/gunicorn.conf.py"
STARTUP_SECONDS = 60
STOP_SECONDS = 30
# Longer than Gunicorn's worker timeout: a worker still busy with an abandoned request is
# answered or replaced by then.
SETTLE_SECONDS = 45
SETTLE_INTERVAL = 0.5
# One clock tick (1/100 s) in half a second: an idle worker's heartbeat, nothing more.
IDLE_TICKS = 1


class ServerFailed(Exception):
    """A server did not start, or a worker's figures could not be read."""


class Server:
    def __init__(self, name, *, app, env, port, log_path):
        self.name = name
        self.app = app
        self.env = {**env, "BIND": f"127.0.0.1:{port}"}
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self.process = None

    def start(self, ready_path):
        """Start the server; return once it answers `ready_path` and its workers are idle."""
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--config", GUNICORN_CONFIG, self.app],
                cwd=BASE_DIR,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerFailed(f"The {self.name} server exited: {self.log_tail()}")
            try:
                if self.get(ready_path)[0] == 200:
                    # Every worker booted, not only the one that answered.
                    self.settle()
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise ServerFailed(f"The {self.name} server did not answer {ready_path}: {self.log_tail()}")

    def get(self, path, timeout=5):
        """The status and headers of the server's answer to a GET of the path."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            return response.status, response.headers
        finally:
            connection.close()

    def stop(self):
        """A quick shutdown: requests in flight and in the queue are dropped."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGQUIT)
        try:
            self.process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def log_tail(self, lines=20):
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def workers(self):
        """The worker processes' ids, from the master's children."""
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text()
        except OSError as error:
            raise ServerFailed(f"The {self.name} server's workers are unknown: {error}") from None
        return sorted(int(child) for child in children.split())

    def settle(self):
        """Wait until the workers use no CPU: booted, and done with any request left over.

        False if they are still busy after SETTLE_SECONDS.
        """
        deadline = time.monotonic() + SETTLE_SECONDS
        last = cpu_ticks(self.workers())
        while time.monotonic() < deadline:
            time.sleep(SETTLE_INTERVAL)
            now = cpu_ticks(self.workers())
            # A worker started since counts all its time: it is booting.
            if sum(ticks - last.get(pid, 0) for pid, ticks in now.items()) <= IDLE_TICKS:
                return True
            last = now
        return False

    def rss_mb(self):
        return self.memory_mb("VmRSS")

    def peak_mb(self):
        return self.memory_mb("VmHWM")

    def memory_mb(self, field):
        """The figure of each worker that is alive: a replaced one may linger as a zombie."""
        sizes = {pid: memory_mb(pid, field) for pid in self.workers()}
        return {pid: size for pid, size in sizes.items() if size is not None}

    def reset_peaks(self):
        """Start each worker's peak memory (VmHWM) again from its present size."""
        for pid in self.workers():
            # https://docs.kernel.org/filesystems/proc.html: "5" resets the peak RSS.
            with contextlib.suppress(OSError):
                Path(f"/proc/{pid}/clear_refs").write_text("5")


def processes_named(command):
    """The ids of the running processes whose command name (/proc/PID/comm) is `command`."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() == command:
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def cpu_ticks(pids):
    """User and system CPU time of each process that is still there, in clock ticks."""
    ticks = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # utime and stime, fields 14 and 15 of proc(5), counted after the command's ")".
        ticks[pid] = int(fields[11]) + int(fields[12])
    return ticks


def memory_mb(pid, field):
    """A memory figure of /proc/PID/status, such as VmRSS or VmHWM, in MB; None once it exited."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith(f"{field}:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None
