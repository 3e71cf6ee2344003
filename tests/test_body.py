"""The body's storability check, the text that lets a body skip its walk, and its size limit."""
import io
import json
import logging

import pytest
from flask import request
from hypothesis import given, settings, strategies as st
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from helpers import assert_error
from vorel_lite.body import MAX_NESTING, check_storable, plainly_storable
from vorel_lite.errors import BadRequest

LEADS = "/api/v1/leads"
CONVERSATIONS = "/api/v1/conversations"
# A view answering the body it got, added for these tests.
ECHO = "/api/v1/echo"
BODY_LIMIT = 1000
FORM = "application/x-www-form-urlencoded"

# Any text, NUL and lone surrogates included; values nested well past the limit.
text = st.text(st.characters(codec=None, exclude_categories=()), max_size=8)
values = st.recursive(st.none() | st.booleans() | st.integers() | text,
                      lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(text, inner, max_size=3), max_leaves=60)


def nested(levels, leaf=1):
    """A list nested levels deep around leaf."""
    for _ in range(levels):
        leaf = [leaf]
    return leaf


@settings(max_examples=400, deadline=None)
@given(value=st.dictionaries(text, values, max_size=4), ascii_only=st.booleans())
def test_a_body_skips_the_walk_only_when_the_walk_would_pass(value, ascii_only):
    raw = json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    if plainly_storable(raw):
        check_storable(json.loads(raw))


@pytest.mark.parametrize("raw", [
    '{"a": "\\u0000"}'.encode(), '{"a": "\\ud800"}'.encode(), b'{"a": "\xed\xa0\x80"}',
    '{"a": 1}'.encode("utf-16"), json.dumps({"a": nested(MAX_NESTING - 1)}).encode()])
def test_what_could_be_unstorable_is_walked(raw):
    assert not plainly_storable(raw)


def test_a_surrogate_in_raw_utf8_is_refused(client, auth, conversation):
    response = client.post(LEADS, headers={**auth, "Content-Type": "application/json"},
                           data=b'{"conversation_id": "%s", "name": "\xed\xa0\x80"}'
                           % conversation["id"].encode())
    error = assert_error(response, 400, "bad_request", "name")
    assert error["fields"] == {"name": ["the text contains an unpaired UTF-16 surrogate."]}


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32",
                                      "utf-32-le"])
def test_a_body_in_another_encoding_than_utf8_is_refused(client, auth, conversation, encoding):
    body = json.dumps({"conversation_id": conversation["id"], "name": "Layla"}).encode(encoding)
    response = client.post(LEADS, headers={**auth, "Content-Type": "application/json"},
                           data=body)
    error = assert_error(response, 400, "bad_request")
    assert error["message"].startswith("Request body is not valid JSON")


def test_a_utf8_body_with_a_byte_order_mark_is_taken_and_bad_utf8_named(
        client, auth, conversation):
    body = json.dumps({"conversation_id": conversation["id"], "name": "Layla"}).encode(
        "utf-8-sig")
    headers = {**auth, "Content-Type": "application/json"}
    assert client.post(LEADS, headers=headers, data=body).status_code == 201
    error = assert_error(client.post(LEADS, headers=headers, data=b'{"name": "\xff"}'), 400,
                         "bad_request")
    assert error["message"] == "Request body is not valid JSON: it must be UTF-8 (byte 10 is not)."


@pytest.mark.parametrize("levels, status", [(29, 201), (30, 400)])
def test_nesting_is_refused_past_the_limit_and_only_past_it(client, auth, conversation, levels,
                                                            status):
    # The body, attributes and the lists: the leaf is at depth levels + 3.
    body = {"conversation_id": conversation["id"], "attributes": {"a": nested(levels)}}
    assert client.post(LEADS, headers=auth, json=body).status_code == status


def test_brackets_in_text_are_only_text(client, auth, conversation):
    body = {"conversation_id": conversation["id"], "name": "[{" * 40}
    response = client.post(LEADS, headers=auth, json=body)
    assert response.status_code == 201 and response.get_json()["name"] == "[{" * 40


def test_check_storable_names_the_path_of_a_nul():
    with pytest.raises(BadRequest) as raised:
        check_storable({"attributes": {"notes": ["ok", "a\x00b"]}})
    assert raised.value.fields == {"attributes.notes.1": [
        "the text contains a NUL character (\\u0000), which cannot be stored."]}


@pytest.fixture
def small_limit(app):
    """A small MAX_CONTENT_LENGTH (BODY_LIMIT), so over-long bodies are short to make."""
    app.config["MAX_CONTENT_LENGTH"] = BODY_LIMIT


def post(client, path, body, chunked, headers):
    """POST body to path: chunked as gunicorn hands it (no Content-Length, a stream that ends
    where the body does), or with its Content-Length. body: bytes, or a stream if chunked."""
    if not chunked:
        return client.post(path, data=body, headers=headers)
    environ = EnvironBuilder(path=path, method="POST",
                             headers={**headers, "Transfer-Encoding": "chunked"}).get_environ()
    environ.pop("CONTENT_LENGTH", None)
    environ["wsgi.input"] = io.BytesIO(body) if isinstance(body, bytes) else body
    environ["wsgi.input_terminated"] = True
    return client.open(Request(environ))


def padded(document, size):
    """document as JSON text, padded with spaces to size bytes."""
    text = json.dumps(document).encode()
    return text + b" " * (size - len(text))


def requests_logged(caplog):
    """The request log's lines so far."""
    return [r.getMessage() for r in caplog.records if r.name == "vorel_lite.requests"]


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("size", [0, 1, BODY_LIMIT])
def test_a_body_within_the_limit_reaches_the_view_unchanged(
        app, client, auth, small_limit, chunked, size):
    app.add_url_rule(ECHO, "echo", lambda: request.get_data(), methods=["POST"])
    body = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
    response = post(client, ECHO, body, chunked, auth)
    assert response.status_code == 200 and response.data == body


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("size, status", [(BODY_LIMIT, 201), (BODY_LIMIT + 1, 413)])
def test_a_padded_object_is_created_at_the_limit_and_refused_past_it(
        client, auth, small_limit, chunked, size, status):
    body = padded({"channel": "whatsapp", "customer_identifier": "+971500000002"}, size)
    response = post(client, CONVERSATIONS, body, chunked,
                    {**auth, "Content-Type": "application/json"})
    assert response.status_code == status, response.get_json()


@pytest.mark.sqlite_only
@pytest.mark.parametrize("size", [BODY_LIMIT + 1, 50 * BODY_LIMIT])
@pytest.mark.parametrize("path, content_type, keyed, status", [
    (CONVERSATIONS, "application/json", True, 413),
    # Refused before its body is read, chunked or not.
    (CONVERSATIONS, "application/json", False, 401),
    ("/login", FORM, False, 413)], ids=["api", "api-without-key", "console"])
def test_a_chunked_body_over_the_limit_is_answered_as_one_with_its_length(
        client, auth, caplog, small_limit, path, content_type, keyed, status, size):
    caplog.set_level(logging.INFO, logger="vorel_lite")
    headers = {**(auth if keyed else {}), "Content-Type": content_type}
    body = padded({"channel": "whatsapp"}, size) if keyed else b"a=" + b"x" * (size - 2)
    sized, chunked = (post(client, path, body, chunked, headers) for chunked in (False, True))
    assert chunked.status_code == sized.status_code == status
    assert chunked.data == sized.data
    assert set(chunked.headers.keys()) == set(sized.headers.keys())
    assert chunked.headers["X-Request-Id"] != sized.headers["X-Request-Id"]
    if path == "/login":
        assert b"<h1>413 Request Entity Too Large</h1>" in chunked.data
    elif keyed:
        assert "X-RateLimit-Remaining" in chunked.headers
        assert chunked.get_json()["error"]["message"] == (
            f"Request body is larger than the limit of {BODY_LIMIT} bytes.")
    logged = requests_logged(caplog)[-2:]
    assert [line.split()[:3] for line in logged] == [["POST", path, str(status)]] * 2


class Trickle(io.RawIOBase):
    """A body that never ends, given a few bytes a read; counts the bytes read of it."""

    def __init__(self):
        self.bytes_read = 0

    def readable(self):
        return True

    def readinto(self, buffer):
        size = min(len(buffer), 100)
        buffer[:size] = b" " * size
        self.bytes_read += size
        return size


def test_an_endless_chunked_body_is_read_one_byte_past_the_limit_and_refused(
        client, auth, small_limit):
    body = Trickle()
    response = post(client, CONVERSATIONS, body, True, {**auth, "Content-Type": "application/json"})
    assert_error(response, 413, "bad_request")
    assert body.bytes_read == BODY_LIMIT + 1


class InvalidChunkSize(Exception):
    """As gunicorn's parse errors, which are no OSError nor ValueError."""


class MalformedChunks(io.RawIOBase):
    """A chunked body whose first chunk is a whole JSON object and whose second is malformed."""

    def __init__(self):
        self.chunks = [b'{"channel": "whatsapp", "customer_identifier": "+971500000002"}']

    def readable(self):
        return True

    def readinto(self, buffer):
        if not self.chunks:
            raise InvalidChunkSize("Invalid chunk size")
        chunk = self.chunks.pop()
        buffer[:len(chunk)] = chunk
        return len(chunk)


def test_a_chunked_body_that_cannot_be_read_is_a_400_not_what_was_read(
        client, auth, small_limit):
    response = post(client, CONVERSATIONS, MalformedChunks(), True,
                    {**auth, "Content-Type": "application/json"})
    assert_error(response, 400, "bad_request")
