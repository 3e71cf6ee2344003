"""Servers the tests start in their own process group: a free port, and stopping them all."""
import os
import signal
import socket
import subprocess
import time
from pathlib import Path


def free_port():
    """Return a loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def terminate_group(process, timeout):
    """SIGTERM process's group, give it timeout seconds, then make sure nothing of it survives."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
    kill_group(process, timeout)


def kill_group(process, timeout):
    """SIGKILL process's whole group (children and orphans too) and wait until it is gone."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout)
    deadline = time.monotonic() + timeout
    while group_alive(process.pid):
        assert time.monotonic() < deadline, f"process group {process.pid} survived SIGKILL"
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        time.sleep(0.05)


def group_alive(pgid):
    """Tell whether a process of group pgid still runs; zombies (dead, unreaped) do not."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    proc = Path("/proc")
    if not proc.is_dir():
        return True
    for stat in proc.glob("[0-9]*/stat"):
        try:
            # pid (comm) state ppid pgrp ...; comm may contain spaces and parentheses.
            state, _, group = stat.read_text().rpartition(")")[2].split()[:3]
        except (OSError, ValueError):
            continue
        if int(group) == pgid and state not in ("Z", "X"):
            return True
    return False
