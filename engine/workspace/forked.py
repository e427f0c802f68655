"""Share one pure, CPU-bound pass between this process and a forked child.

Python runs one thread at a time, so a full reclassification uses one core. A
forked child sees the same documents (copy-on-write, nothing is copied up
front), does its half, and sends back small marshalled results through a pipe.
The child never writes to the database, the journal or the lock: it computes,
writes to the pipe and leaves with ``os._exit``.
"""

from __future__ import annotations

import marshal
import os
from typing import Any, Callable, Sequence, TypeVar

Item = TypeVar("Item")
# What the child sends back; marshal gives back the types it was given.
Result = TypeVar("Result", bound=list[Any] | dict[str, Any])

MIN_ITEMS = 20_000  # below this, forking costs more than it saves


def can_fork() -> bool:
    return hasattr(os, "fork") and (os.cpu_count() or 1) > 1


def split_pass(items: Sequence[Item], local: Callable[[Sequence[Item]], None],
               remote: Callable[[Sequence[Item]], Result]) -> Result:
    """Run ``local`` on the first half here and ``remote`` on the second half in a
    child; return what ``remote`` returned (it must be marshal-able). If the child
    fails for any reason, the second half is done here instead."""
    half = len(items) // 2
    first, second = items[:half], items[half:]
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        code = 1
        try:
            os.close(read_fd)
            data = marshal.dumps(remote(second))
            with os.fdopen(write_fd, "wb") as pipe:
                pipe.write(data)
            code = 0
        finally:
            os._exit(code)
    os.close(write_fd)
    data = b""
    reader = os.fdopen(read_fd, "rb")
    try:
        local(first)
        data = reader.read()
    finally:
        reader.close()  # a child still writing gets EPIPE and leaves
        _, status = os.waitpid(pid, 0)
    if status == 0 and data:
        try:
            received: Result = marshal.loads(data)
            return received
        except (EOFError, ValueError, TypeError):
            pass
    return remote(second)
