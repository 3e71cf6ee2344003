"""Outbound HTTP: one POST to a URL the operator configured, within a deadline for all of it.

libcurl's CURLOPT_TIMEOUT bounds the whole transfer (resolve, connect, send, status line,
headers and body), so a peer that trickles its answer cannot hold a worker past the deadline,
as a timeout per socket read would let it.
"""
import ipaddress
import re
import socket
import time
from dataclasses import dataclass
from importlib.metadata import version
from urllib.parse import urlsplit

import pycurl

USER_AGENT = f"vorel-lite/{version('vorel-lite')}"
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
MAX_ANSWER_BYTES = 1024 * 1024
PRIVATE_TARGETS = ("allow", "deny")
# libcurl's CURLE_WEIRD_SERVER_REPLY (8), which pycurl still names after FTP: garbage where
# a status line should be.
WEIRD_SERVER_REPLY = pycurl.E_FTP_WEIRD_SERVER_REPLY


def check_url(url):
    """Refuse anything but an absolute http(s) URL with a host, or with a space or control char.

    Raises ValueError saying why (without echoing a password the URL may carry).
    """
    if re.search(r"[\x00-\x20\x7f]", url):
        raise ValueError("the URL contains a space or a control character (CR, LF, tab...)")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 (raises ValueError for a port out of range)
    except ValueError:
        raise ValueError("not a valid URL") from None
    if parts.scheme not in ("http", "https") or not host:
        raise ValueError("not an absolute http(s) URL with a host")


def redact_url(url):
    """Return url with any password replaced by ***, for display."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


@dataclass
class Answer:
    """What came of one request: a status and body, or an error and its kind."""

    status: int | None
    body: bytes
    error: str | None
    # None when an HTTP answer came back; else "timeout", "not_http", "too_large" or
    # "unreachable" (refused, unresolvable, reset, TLS failure...).
    failure: str | None
    duration_ms: int


def init_app(app):
    """Refuse to start with a PRIVATE_TARGETS setting that means nothing."""
    setting = app.config["WEBHOOK_PRIVATE_TARGETS"]
    if setting not in PRIVATE_TARGETS:
        raise ValueError(f"WEBHOOK_PRIVATE_TARGETS must be one of {', '.join(PRIVATE_TARGETS)}, "
                         f"not {setting!r}.")


def is_public(ip):
    """Tell whether an IP address is globally routable (not loopback, private, link-local
    such as the cloud metadata address 169.254.169.254, shared, reserved...)."""
    address = ipaddress.ip_address(ip.split("%")[0])
    if getattr(address, "ipv4_mapped", None):
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def post(url, body, headers, timeout, agent=None, private_targets="allow"):
    """POST body (bytes) to url with headers; return the Answer within timeout seconds.

    No proxy from the environment, no redirect followed (a 3xx is returned as it is), no
    `Expect: 100-continue` wait, only http and https, at most MAX_ANSWER_BYTES of answer.
    agent: what is sending, added to the User-Agent. private_targets: "deny" refuses to
    connect to an address that is not public, checked on each address the name resolves to,
    as it is connected. Never raises for what the peer does.
    """
    user_agent = f"{USER_AGENT} ({agent})" if agent else USER_AGENT
    received = bytearray()
    refused = []

    def open_socket(purpose, address):
        if not is_public(address.addr[0]):
            refused.append(address.addr[0])
            return pycurl.SOCKET_BAD
        return socket.socket(address.family, address.socktype, address.protocol)

    def collect(chunk):
        if len(received) + len(chunk) > MAX_ANSWER_BYTES:
            return 0  # anything but len(chunk) makes libcurl abort with CURLE_WRITE_ERROR
        received.extend(chunk)
        return None

    curl = pycurl.Curl()
    try:
        try:
            check_url(url)
            # Header values go as UTF-8 octets (RFC 9110 section 5.5 allows octets above 0x7F);
            # a CR or LF in one would start another header.
            lines = [f"{name}: {value}".encode("utf-8") for name, value in headers.items()]
            if any(b"\r" in line or b"\n" in line for line in lines):
                raise ValueError("a header value contains CR or LF")
            curl.setopt(pycurl.URL, url)
            curl.setopt(pycurl.HTTPHEADER, lines + [f"User-Agent: {user_agent}".encode("ascii"),
                                                    b"Expect:"])
        except (ValueError, UnicodeError) as exc:
            return Answer(None, b"", f"not sent: {exc}", "unreachable", 0)
        curl.setopt(pycurl.POST, 1)
        curl.setopt(pycurl.POSTFIELDS, body)
        curl.setopt(pycurl.TIMEOUT_MS, max(1, int(timeout * 1000)))
        curl.setopt(pycurl.NOSIGNAL, 1)
        curl.setopt(pycurl.PROXY, "")
        curl.setopt(pycurl.FOLLOWLOCATION, 0)
        curl.setopt(pycurl.PROTOCOLS, pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS)
        curl.setopt(pycurl.WRITEFUNCTION, collect)
        if private_targets == "deny":
            curl.setopt(pycurl.OPENSOCKETFUNCTION, open_socket)
        started = time.monotonic()
        try:
            curl.perform()
        except pycurl.error as exc:
            code, message = exc.args
            if refused and code == pycurl.E_COULDNT_CONNECT:
                message = (f"not sent: {', '.join(refused)} is not a public address "
                           "(WEBHOOK_PRIVATE_TARGETS is deny)")
            kind = failure_kind(code, message)
            return Answer(None, bytes(received), describe(kind, message, timeout), kind,
                          elapsed_ms(started))
        return Answer(curl.getinfo(pycurl.RESPONSE_CODE), bytes(received), None, None,
                      elapsed_ms(started))
    finally:
        curl.close()


def failure_kind(code, message):
    """Classify a libcurl error."""
    if code == pycurl.E_OPERATION_TIMEDOUT:
        return "timeout"
    # libcurl refuses an answer without a status line as HTTP/0.9 (CURLE_UNSUPPORTED_PROTOCOL).
    if code == WEIRD_SERVER_REPLY or (code == pycurl.E_UNSUPPORTED_PROTOCOL
                                      and "HTTP/0.9" in message):
        return "not_http"
    if code == pycurl.E_WRITE_ERROR:
        return "too_large"
    return "unreachable"


def describe(kind, message, timeout):
    """Say in one line what went wrong, in words an operator can act on."""
    if kind == "timeout":
        return f"timed out: no complete answer within the deadline of {timeout:g} s"
    if kind == "not_http":
        return f"the answer was not HTTP ({message})"
    if kind == "too_large":
        return f"the answer was larger than {MAX_ANSWER_BYTES} bytes"
    return message


def printable(text):
    """Escape control characters (C0, C1) and bidi overrides, for a terminal or a log line."""
    return CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def excerpt(raw, limit=200):
    """Return the start of a peer's answer as one short line of printable, escaped text."""
    text = printable(" ".join(raw[:limit * 4].decode("utf-8", "replace").split()))
    return (text[:limit] + "…" if len(text) > limit else text) or "(empty body)"


def elapsed_ms(started):
    return int((time.monotonic() - started) * 1000)
