"""The request log's cheap paths say what the slow ones said: paths as quoted, ids unique."""
import logging
import os
from urllib.parse import quote

import pytest
from flask import Flask, g

from vorel_lite import requestlog
from vorel_lite.requestlog import LOGGED_AS_IS, PATH_SAFE, start_request


@pytest.mark.parametrize("path", [
    "/api/v1/leads/20000000-0000-4000-8000-000000000000", "/api/v1/leads", "/",
    "/a:b@c!d$e&f'g(h)i*j+k,l;m=n~o_p.q-r", "/x%20y", "/x y", "/ü", "/a\nb", "/a\x00b",
    "/\ud800", "/a?b", "/a#b", "/a\"b", "/<script>", "/a\\b", "/a`b", "/a{b}", "/a|b", "/a^b",
])
def test_a_path_is_logged_as_quote_would_write_it(path):
    quoted = quote(path, safe=PATH_SAFE, errors="backslashreplace")
    assert (LOGGED_AS_IS.fullmatch(path) is not None) == (quoted == path)


def test_every_character_quote_keeps_is_logged_as_is_and_no_other():
    for code in range(0x300):
        char = chr(code)
        kept = quote(char, safe=PATH_SAFE, errors="backslashreplace") == char
        assert (LOGGED_AS_IS.fullmatch(char) is not None) == kept, repr(char)


def test_the_logged_line_quotes_what_it_must(client, caplog):
    caplog.set_level(logging.INFO, logger="vorel_lite")
    client.get("/api/v1/a b/ü")
    client.get("/api/v1/plain-path")
    lines = [r.getMessage() for r in caplog.records if r.name == "vorel_lite.requests"]
    assert lines[0].split(" ")[1] == "/api/v1/a%20b/%C3%BC"
    assert lines[1].split(" ")[1] == "/api/v1/plain-path"


def made_request_id(app):
    with app.test_request_context("/"):
        start_request()
        return g.request_id


def test_request_ids_differ_between_forked_workers():
    app = Flask(__name__)
    made_request_id(app)
    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:  # the worker: its next id, then out without pytest's clean-up
        os.write(writing, made_request_id(app).encode())
        os._exit(0)
    os.close(writing)
    in_child = os.read(reading, 64).decode()
    os.waitpid(child, 0)
    in_parent = made_request_id(app)
    assert len(in_child) == len(in_parent) == 32
    assert in_child != in_parent


def test_a_console_request_is_logged_with_the_operators_tenant(app, client, caplog):
    from console_helpers import add_operator, sign_in
    tenant_id = add_operator(app, "owner@example.com")
    caplog.set_level(logging.INFO, logger="vorel_lite")
    client.get("/login")
    assert sign_in(client, "owner@example.com").status_code == 303
    client.get("/leads")
    lines = [r.getMessage() for r in caplog.records if r.name == "vorel_lite.requests"]
    assert " tenant=- key=- " in lines[0]  # signed out: nobody's
    assert "GET /leads 200" in lines[-1] and f" tenant={tenant_id} key=- " in lines[-1]


def test_the_line_is_a_standard_record_of_this_module(client, caplog):
    caplog.set_level(logging.INFO, logger="vorel_lite")
    response = client.get("/api/v1/leads", headers={"X-Request-Id": "req-7"})
    (record,) = [r for r in caplog.records if r.name == "vorel_lite.requests"]
    assert record.levelno == logging.INFO and record.funcName == "log_request"
    assert record.pathname == requestlog.__file__ and record.lineno == requestlog.LOG_REQUEST_LINE
    method, path, status, duration, tenant, key, request_id = record.getMessage().split(" ")
    assert (method, path, status) == ("GET", "/api/v1/leads", "401")
    assert (tenant, key) == ("tenant=-", "key=-")
    assert duration.endswith("ms") and request_id == "request_id=req-7"
    assert response.headers["X-Request-Id"] == "req-7"


def test_no_record_is_made_below_the_logs_level(client, caplog):
    caplog.set_level(logging.WARNING, logger="vorel_lite")
    client.get("/api/v1/leads")
    assert not [r for r in caplog.records if r.name == "vorel_lite.requests"]


@pytest.mark.parametrize("created", [0.0, 1.5, 1764547200.999, 1764547201.0, 1764547201.25,
                                     1764547200.5])
def test_the_stderr_formatter_writes_what_loggings_own_writes(created):
    mine = requestlog.StderrFormatter(requestlog.STDERR_FORMAT)
    stock = logging.Formatter(requestlog.STDERR_FORMAT)
    record = logging.LogRecord("vorel_lite.x", logging.INFO, __file__, 1, "m %s", ("a",), None)
    # Formatted in this order, each second's text is reused or made again as it must be.
    for when in (created, created + 0.001, created + 1, created):
        record.created, record.msecs = when, (when - int(when)) * 1000
        assert mine.format(record) == stock.format(record)
        assert mine.formatTime(record, "%H") == stock.formatTime(record, "%H")
