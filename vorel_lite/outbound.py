"""Outbound HTTP: one POST to a URL the operator configured, within a deadline for all of it.

libcurl's CURLOPT_TIMEOUT bounds the whole transfer (resolve, connect, send, status line,
headers and body), so a peer that trickles its answer cannot hold a worker past the deadline,
as a timeout per socket read would let it. A Sender keeps its handle, and with it its
keep-alive connections, from one POST to the next.
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


def check_target(url, private_targets):
    """Refuse what check_url refuses and, with private_targets "deny", a host that resolves
    to an address that is not public (see is_public); ValueError says why.

    For adding a target: each connection is checked again when it is opened (DNS can change),
    so a name that does not resolve now is let through to that check.
    """
    check_url(url)
    if private_targets != "deny":
        return
    host = urlsplit(url).hostname
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None,
                                                               proto=socket.IPPROTO_TCP)}
    except (OSError, UnicodeError):
        return
    refused = sorted(address for address in addresses if not is_public(address))
    if refused:
        raise ValueError(f"{', '.join(refused)} is not a public address "
                         "(WEBHOOK_PRIVATE_TARGETS is deny)")


def redact_url(url):
    """Return url for display: a password and every query parameter's value become ***.

    A query often carries a token (?token=...); its name stays, to tell the URLs apart.
    """
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        netloc = netloc.replace(f":{parts.password}@", ":***@", 1)
    query = "&".join(redact_parameter(pair) for pair in parts.query.split("&"))
    return parts._replace(netloc=netloc, query=query).geturl()


def redact_parameter(pair):
    """Return name=*** for a query's name=value with a value, else the pair unchanged."""
    name, equals, value = pair.partition("=")
    return f"{name}=***" if equals and value else pair


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
    """POST body (bytes) to url with headers, on a new connection; return the Answer within
    timeout seconds. See Sender.post; never raises for what the peer does.
    """
    sender = Sender(private_targets, agent)
    try:
        return sender.post(url, body, headers, timeout)
    finally:
        sender.close()


class Sender:
    """A libcurl handle kept between POSTs, so that its open connections are reused.

    libcurl calls OPENSOCKETFUNCTION for each new connection only: with private_targets
    "deny", every connection is checked once, on the address it is opened to, before it is
    opened; a reused connection is one that passed. A handle has one setting for its life,
    so a connection opened under "allow" never serves a "deny" sender.
    """

    def __init__(self, private_targets="allow", agent=None):
        self.private_targets = private_targets
        self.user_agent = (f"User-Agent: {USER_AGENT} ({agent})" if agent
                           else f"User-Agent: {USER_AGENT}").encode("ascii")
        self.curl = pycurl.Curl()

    def close(self):
        """Close the handle and its connections."""
        self.curl.close()

    def post(self, url, body, headers, timeout):
        """POST body (bytes) to url with headers; return the Answer within timeout seconds.

        No proxy from the environment, no redirect followed (a 3xx is returned as it is), no
        `Expect: 100-continue` wait, only http and https, at most MAX_ANSWER_BYTES of answer.
        The timeout bounds the whole attempt, on a reused connection as on a new one.
        """
        received = bytearray()
        refused, opened = [], []

        def open_socket(purpose, address):
            if not is_public(address.addr[0]):
                refused.append(address.addr[0])
                return pycurl.SOCKET_BAD
            opened.append(socket.socket(address.family, address.socktype, address.protocol))
            return opened[-1]

        def collect(chunk):
            if len(received) + len(chunk) > MAX_ANSWER_BYTES:
                return 0  # anything but len(chunk) makes libcurl abort with CURLE_WRITE_ERROR
            received.extend(chunk)
            return None

        curl = self.curl
        # Every option of the last request goes; the connection cache stays.
        curl.reset()
        try:
            check_url(url)
            # Header values go as UTF-8 octets (RFC 9110 section 5.5 allows octets above
            # 0x7F); a CR or LF in one would start another header.
            lines = [f"{name}: {value}".encode("utf-8") for name, value in headers.items()]
            if any(b"\r" in line or b"\n" in line for line in lines):
                raise ValueError("a header value contains CR or LF")
            curl.setopt(pycurl.URL, url)
            curl.setopt(pycurl.HTTPHEADER, lines + [self.user_agent, b"Expect:"])
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
        if self.private_targets == "deny":
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
        finally:
            # pycurl hands libcurl a duplicate of each socket's descriptor: the connection
            # lives on in the handle, these objects are ours to close.
            for sock in opened:
                sock.close()
        return Answer(curl.getinfo(pycurl.RESPONSE_CODE), bytes(received), None, None,
                      elapsed_ms(started))


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
