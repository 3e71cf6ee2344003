"""`python -m vorel_lite.testing [--port N]`: a stand-in server for test suites in any language.

Prints one JSON line, {"url", "api_key", "tenant"}, once it serves, then serves until
SIGTERM or SIGINT. Nothing else is ever written to stdout: the request log goes to stderr.
"""
import argparse
import json
import signal
import sys

from .server import VorelServer

STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def main(argv=None):
    """Serve a fresh in-memory vorel-lite and announce it on stdout; return the exit code."""
    parser = argparse.ArgumentParser(prog="python -m vorel_lite.testing", description=__doc__)
    parser.add_argument("--port", type=int, default=0,
                        help="loopback port to listen on (default: a free one)")
    args = parser.parse_args(argv)
    # Blocked here, so every thread started below inherits the mask and only sigwait sees them.
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
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


if __name__ == "__main__":
    sys.exit(main())
