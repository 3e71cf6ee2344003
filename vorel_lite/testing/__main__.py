"""`python -m vorel_lite.testing [--port N]`: a stand-in server for test suites in any language.

Prints one JSON line, {"url", "api_key", "tenant"}, once it serves, then serves until
SIGTERM or SIGINT, or until the process that started it dies. Nothing else is ever written
to stdout: the request log goes to stderr.
"""
import argparse
import json
import os
import signal
import sys
import threading
import time

from .server import VorelServer

STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}
HIGHEST_PORT = 65535
PARENT_POLL_SECONDS = 1


def port_number(text):
    """Parse a TCP port number, 0 to 65535."""
    try:
        port = int(text)
    except ValueError:
        port = None
    if port is None or not 0 <= port <= HIGHEST_PORT:
        raise argparse.ArgumentTypeError(f"a port is a whole number from 0 to {HIGHEST_PORT}, "
                                         f"not {text!r}")
    return port


def main(argv=None):
    """Serve a fresh in-memory vorel-lite and announce it on stdout; return the exit code."""
    parser = argparse.ArgumentParser(prog="python -m vorel_lite.testing", description=__doc__)
    parser.add_argument("--port", type=port_number, default=0, metavar="0-65535",
                        help="loopback port to listen on (default: a free one)")
    args = parser.parse_args(argv)
    # Blocked here, so every thread started below inherits the mask and only sigwait sees them.
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    threading.Thread(target=stop_when_orphaned, args=(os.getppid(),), daemon=True,
                     name="parent-watch").start()
    # stdout carries the one line: anything else that prints goes to stderr.
    announce, sys.stdout = sys.stdout, sys.stderr
    try:
        server = VorelServer(port=args.port).start()
    except OSError as exc:
        print(f"cannot listen on 127.0.0.1:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    try:
        tenant = server.new_tenant()
        announce.write(json.dumps({"url": tenant.base_url, "api_key": tenant.api_key,
                                   "tenant": tenant.tenant}) + "\n")
        announce.flush()
        signal.sigwait(STOP_SIGNALS)
    finally:
        server.stop()
    return 0


def stop_when_orphaned(parent):
    """SIGTERM this process once its parent is gone, so a killed test runner leaks no server."""
    # An orphan is re-parented (to init or a subreaper): its parent id changes. Polling works
    # everywhere, where PR_SET_PDEATHSIG is Linux-only and fires when the parent *thread* ends.
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_SECONDS)
    os.kill(os.getpid(), signal.SIGTERM)


if __name__ == "__main__":
    sys.exit(main())
