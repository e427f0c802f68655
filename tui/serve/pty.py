"""A child process on its own pseudo-terminal, driven from an asyncio event loop.

Each SSH session of ``funnel serve`` runs the app as such a child: a separate process
in its own session and process group, whose controlling terminal is the slave side of
a fresh pty. The server only moves bytes between the SSH channel and the pty master,
so a session that crashes or hangs cannot disturb another one, nor the server.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import signal
import struct
import subprocess
import termios
from typing import Callable, Mapping, Sequence

READ_SIZE = 65536
INPUT_BACKLOG = 256 * 1024  # bytes of client input queued before the channel is paused
DRAIN_LIMIT = 4 * 1024 * 1024  # output read after the child exited, at most
# A client chooses its window size: 65535x65535 once grew an app to 2.3 GB. No screen
# shows more than this; anything larger is served at this size.
MAX_COLUMNS = 1000
MAX_ROWS = 500
MAX_PIXELS = 65535  # the kernel's field is 16 bits


def clamp_size(columns: int, rows: int) -> tuple[int, int]:
    """The size a session gets for the size its client asked for."""
    return min(max(columns, 1), MAX_COLUMNS), min(max(rows, 1), MAX_ROWS)


def set_window_size(descriptor: int, columns: int, rows: int,
                    xpixels: int = 0, ypixels: int = 0) -> None:
    """TIOCSWINSZ on the pty (clamped). The kernel then sends SIGWINCH to the terminal's
    foreground process group (the app), as a terminal emulator's resize does."""
    columns, rows = clamp_size(columns, rows)
    xpixels, ypixels = (min(max(value, 0), MAX_PIXELS) for value in (xpixels, ypixels))
    fcntl.ioctl(descriptor, termios.TIOCSWINSZ,
                struct.pack("HHHH", rows, columns, xpixels, ypixels))


class PtyProcess:
    """Start ``argv`` on a new pty and pump its bytes through callbacks."""

    def __init__(self, argv: Sequence[str], env: Mapping[str, str], *, columns: int,
                 rows: int, on_output: Callable[[bytes], None],
                 on_exit: Callable[[int], None], cwd: str | None = None,
                 umask: int = -1) -> None:
        self.argv = list(argv)
        self.env = dict(env)
        self.cwd = cwd
        self.umask = umask  # -1: the server's own
        self._size = clamp_size(columns, rows)
        self._on_output = on_output
        self._on_exit = on_exit
        self._on_input_drained: Callable[[], None] | None = None
        self._loop = asyncio.get_running_loop()
        self._master = -1
        self._pidfd = -1
        self._poll_handle: asyncio.TimerHandle | None = None
        self._process: subprocess.Popen | None = None
        self._input = bytearray()
        self._reading = False
        self._writing = False
        self._exited = asyncio.Event()
        self.returncode: int | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def running(self) -> bool:
        return self._process is not None and self.returncode is None

    # -- start ------------------------------------------------------------------
    def start(self) -> None:
        master, slave = os.openpty()
        try:
            set_window_size(slave, *self._size)
            # stdin, stdout and stderr are the slave; the child becomes a session leader
            # and (in funnel.tui.serve.session) takes the slave as its controlling terminal.
            self._process = subprocess.Popen(
                self.argv, stdin=slave, stdout=slave, stderr=slave, env=self.env,
                cwd=self.cwd, start_new_session=True, close_fds=True, umask=self.umask)
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)
        self._master = master
        os.set_blocking(master, False)
        self._resume_reading()
        self._watch_exit()

    def _watch_exit(self) -> None:
        try:
            self._pidfd = os.pidfd_open(self._started().pid)
        except (AttributeError, OSError):  # no pidfd (old kernel): look every 100 ms
            self._poll_handle = self._loop.call_later(0.1, self._poll_exit)
            return
        self._loop.add_reader(self._pidfd, self._child_exited)

    def _poll_exit(self) -> None:
        self._poll_handle = None
        try:
            running = os.waitid(os.P_PID, self._started().pid,
                                os.WEXITED | os.WNOHANG | os.WNOWAIT) is None
        except ChildProcessError:
            running = False  # already reaped
        if running:
            self._poll_handle = self._loop.call_later(0.1, self._poll_exit)
        else:
            self._child_exited()

    def _started(self) -> subprocess.Popen:
        assert self._process is not None, "start() comes first"
        return self._process

    # -- output: pty master -> callback ---------------------------------------------
    def _resume_reading(self) -> None:
        if not self._reading and self._master >= 0:
            self._loop.add_reader(self._master, self._readable)
            self._reading = True

    def _pause_reading(self) -> None:
        if self._reading:
            self._loop.remove_reader(self._master)
            self._reading = False

    def pause_output(self) -> None:
        """Stop reading the child's output (the client is slow); the child then blocks
        on a full terminal instead of the server buffering without bound."""
        self._pause_reading()

    def resume_output(self) -> None:
        self._resume_reading()

    def discard_output(self) -> None:
        """Nobody is listening any more: read and drop, so the child never blocks."""
        self._on_output = lambda data: None
        self._resume_reading()

    def _readable(self) -> None:
        try:
            data = os.read(self._master, READ_SIZE)
        except BlockingIOError:
            return
        except OSError:  # EIO: every slave descriptor is closed (the child is gone)
            data = b""
        if data:
            self._on_output(data)
        else:
            self._pause_reading()

    # -- input: bytes -> pty master --------------------------------------------
    def write(self, data: bytes) -> bool:
        """Queue ``data`` for the child. False when the backlog is large: the caller
        should stop reading its source until ``on_input_drained`` is called."""
        if self._master < 0 or self.returncode is not None:
            return True
        self._input += data
        self._flush_input()
        return len(self._input) < INPUT_BACKLOG

    def on_input_drained(self, callback: Callable[[], None]) -> None:
        self._on_input_drained = callback

    def _flush_input(self) -> None:
        while self._input:
            try:
                written = os.write(self._master, self._input)
            except BlockingIOError:
                break
            except OSError:  # the child is gone; what it did not read is dropped
                self._input.clear()
                break
            del self._input[:written]
        if self._input and not self._writing:
            self._loop.add_writer(self._master, self._flush_input)
            self._writing = True
        elif not self._input and self._writing:
            self._loop.remove_writer(self._master)
            self._writing = False
            if self._on_input_drained is not None:
                self._on_input_drained()

    def resize(self, columns: int, rows: int, xpixels: int = 0, ypixels: int = 0) -> None:
        self._size = clamp_size(columns, rows)
        if self._master >= 0 and self.returncode is None:
            set_window_size(self._master, columns, rows, xpixels, ypixels)

    # -- ending ----------------------------------------------------------------
    def signal_group(self, signum: int) -> None:
        """Signal the child's whole process group (it leads its own session)."""
        if self._process is None or self.returncode is not None:
            return
        try:
            os.killpg(self._process.pid, signum)
        except (ProcessLookupError, PermissionError):
            pass

    async def terminate(self, grace: float) -> int | None:
        """SIGTERM to the group (the app exits cleanly and finishes any commit), then
        SIGKILL when it is still there after ``grace`` seconds."""
        if self._process is None:
            return None
        if self.returncode is None:
            self.signal_group(signal.SIGTERM)
            try:
                await asyncio.wait_for(self._exited.wait(), grace)
            except asyncio.TimeoutError:
                self.signal_group(signal.SIGKILL)
                try:
                    await asyncio.wait_for(self._exited.wait(), 5)
                except asyncio.TimeoutError:
                    pass
        return self.returncode

    async def wait(self) -> int | None:
        await self._exited.wait()
        return self.returncode

    def _child_exited(self) -> None:
        if self.returncode is not None:
            return
        if self._pidfd >= 0:
            self._loop.remove_reader(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = -1
        # The child is a zombie until reaped, so its group id cannot have been reused:
        # kill whatever it left behind in its group, then reap it.
        try:
            os.killpg(self._started().pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.returncode = self._started().wait()
        self._drain_output()
        self._close_master()
        self._exited.set()
        self._on_exit(self.returncode)

    def _drain_output(self) -> None:
        if self._master < 0:
            return
        drained = 0
        while drained < DRAIN_LIMIT:
            try:
                data = os.read(self._master, READ_SIZE)
            except OSError:  # EAGAIN: nothing left; EIO: the slave is closed
                break
            if not data:
                break
            drained += len(data)
            self._on_output(data)

    def _close_master(self) -> None:
        if self._master < 0:
            return
        self._pause_reading()
        if self._writing:
            self._loop.remove_writer(self._master)
            self._writing = False
        os.close(self._master)
        self._master = -1

    def close(self) -> None:
        """Release everything at once (used when the event loop is going away)."""
        if self.returncode is None and self._process is not None:
            self.signal_group(signal.SIGKILL)
        if self._poll_handle is not None:
            self._poll_handle.cancel()
        if self._pidfd >= 0:
            self._loop.remove_reader(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = -1
        self._close_master()

