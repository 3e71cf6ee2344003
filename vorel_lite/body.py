"""Reading request bodies and query strings into validated data; the limit of chunked bodies."""
import io
import json
import math
import sys

from flask import g, request
from marshmallow import ValidationError
from werkzeug.wsgi import get_content_length

from .errors import ApiError, BadRequest, clip

MAX_NESTING = 32


def _reject_constant(name):
    raise ValueError(f"{name} is not a JSON number")


def _unique_keys(pairs):
    document = {}
    for key, value in pairs:
        if key in document:
            raise ValueError(f"key {clip(repr(key))} appears more than once")
        document[key] = value
    return document


class JSONNumber(float):
    """A JSON number with a fraction or exponent: a float that keeps the text it was written as.

    Decimal fields read the text (19.99 stays exactly 19.99); everything else sees a float.
    """

    __slots__ = ("text",)


def _finite_float(text):
    value = JSONNumber(text)
    if not math.isfinite(value):
        raise ValueError(f"number {clip(text)} is out of range")
    value.text = text
    return value


def check_content_encoding():
    """Refuse a body in any content coding but identity: it would be read as something else."""
    coding = request.headers.get("Content-Encoding", "identity").strip().lower()
    if coding not in ("", "identity"):
        raise ApiError("Content-Encoding must be identity (no gzip, br or deflate bodies).",
                       status=415)


def parse_json_object():
    """Return the request body as a JSON object, or raise the 4xx that says why it is not."""
    check_content_encoding()
    if not request.is_json:
        raise ApiError("Content-Type must be application/json.", status=415)
    raw = request.get_data(cache=True)
    try:
        # UTF-8 only (RFC 8259, section 8.1), a byte order mark ignored: json.loads would take
        # UTF-16 and UTF-32 bytes too. Encoded surrogates pass, to be refused with their path.
        text = raw.decode("utf-8-sig", "surrogatepass")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"Request body is not valid JSON: it must be UTF-8 (byte {exc.start}"
                         " is not).")
    try:
        value = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float,
                           object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        raise BadRequest(f"Request body is not valid JSON: {exc.msg} at position {exc.pos}.")
    except (ValueError, RecursionError) as exc:
        # Integers too long to convert, Infinity/NaN, absurd nesting.
        reason = str(exc)
        if "integer string conversion" in reason:
            reason = f"a number has more than {sys.get_int_max_str_digits()} digits"
        raise BadRequest(f"Request body is not valid JSON: {reason}.")
    if not isinstance(value, dict):
        raise BadRequest("Request body must be a JSON object.")
    if not plainly_storable(raw):
        check_storable(value)
    return value


def plainly_storable(raw):
    """Tell whether JSON text (bytes) surely holds nothing that check_storable refuses.

    Only a \\u escape, a NUL byte (UTF-16 and UTF-32 text has them) or the lead byte of a
    UTF-8-encoded surrogate (0xED) can put a NUL or a lone surrogate in the parsed text, and
    nesting needs one bracket per level; a body with none of them need not be walked.
    """
    return (raw.count(b"{") + raw.count(b"[") < MAX_NESTING and b"\\u" not in raw
            and b"\x00" not in raw and b"\xed" not in raw)


def check_storable(document):
    """Refuse text no database can store (NUL, lone surrogates) and absurd nesting.

    The 400 names where the text is, as a dotted path (`attributes.note`, `photos.2`).
    """
    pending = [(document, 1, "")]
    while pending:
        value, depth, path = pending.pop()
        if depth > MAX_NESTING:
            raise BadRequest(f"Request body nests deeper than {MAX_NESTING} levels.")
        if isinstance(value, dict):
            for key, item in value.items():
                check_text(key, path or "_schema", "a field name")
                pending.append((item, depth + 1, f"{path}.{key}" if path else key))
        elif isinstance(value, list):
            pending.extend((item, depth + 1, f"{path}.{index}")
                           for index, item in enumerate(value))
        elif isinstance(value, str):
            check_text(value, path, "the text")


def text_problem(text, what):
    """Say why text cannot be stored, naming it what ("the text", "Name"), or return None.

    The one rule for client text, the API's and the console's: no NUL (PostgreSQL refuses
    it) and no unpaired surrogate (not UTF-8).
    """
    if "\x00" in text:
        return f"{what} contains a NUL character (\\u0000), which cannot be stored."
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return f"{what} contains an unpaired UTF-16 surrogate."
    return None


def check_text(text, path, what):
    """Refuse a NUL or an unpaired surrogate in text found at path."""
    problem = text_problem(text, what)
    if problem:
        name = clip(path)
        raise BadRequest(f"{name}: {problem}", fields={name: [problem]})


def loaded(data):
    """Note that the request passed its checks and now runs (see idempotency.store_answer)."""
    g.request_ran = True
    return data


def load_body(schema, **kwargs):
    """Parse the JSON body and load it with a marshmallow schema."""
    return loaded(schema.load(parse_json_object(), **kwargs))


def load_optional_body(schema, **kwargs):
    """Load the body like load_body, except that an empty body is {}, whatever its
    Content-Type (spec section 1: an empty optional body means no body)."""
    if not request.get_data(cache=True):
        check_content_encoding()
        return loaded(schema.load({}, **kwargs))
    return load_body(schema, **kwargs)


def load_query(schema):
    """Load the query string with a marshmallow schema; a repeated parameter is a 400."""
    repeated = {name: ["Given more than once."] for name, values in request.args.lists()
                if len(values) > 1}
    if repeated:
        raise ValidationError(repeated)
    return loaded(schema.load(request.args.to_dict()))


def read_at_most(stream, size):
    """Return (the first size bytes of stream, or all of it if shorter; whether reading failed)."""
    pieces, missing = [], size
    try:
        # A read may return less than asked (werkzeug's dechunking stream does): ask again.
        while missing > 0 and (piece := stream.read(missing)):
            pieces.append(piece)
            missing -= len(piece)
    except Exception:  # noqa: BLE001
        # A malformed chunk (gunicorn raises its own parse errors) or a dropped connection.
        return b"".join(pieces), True
    return b"".join(pieces), False


def size_body(environ, limit):
    """Replace environ's body of no declared length by its first limit + 1 bytes and their length.

    werkzeug then reads it as a body with a Content-Length: whole when within the limit, and
    refused (413) from its length when over it, when and as a declared one would be. A body
    that could not be read is declared a byte longer than was read: werkzeug answers it as a
    client that disconnected (400).
    """
    body, failed = read_at_most(environ["wsgi.input"], limit + 1)
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body) + failed)
    # Left, werkzeug would ignore CONTENT_LENGTH (chunked) or read to the stream's end instead.
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    del environ["wsgi.input_terminated"]


def limit_unsized_bodies(app):
    """Return app.wsgi_app, made to refuse a chunked body over MAX_CONTENT_LENGTH with a 413.

    werkzeug cuts a body of no declared length at MAX_CONTENT_LENGTH without refusing it
    (pallets/werkzeug#2620), so a view would get its first bytes. Every server but waitress
    (which sizes a chunked body itself) hands the app such bodies: gunicorn, `flask run`.
    """
    wsgi_app = app.wsgi_app

    def sized_wsgi_app(environ, start_response):
        limit = app.config["MAX_CONTENT_LENGTH"]
        if (limit is not None and environ.get("wsgi.input_terminated")
                and get_content_length(environ) is None):
            size_body(environ, limit)
        return wsgi_app(environ, start_response)

    return sized_wsgi_app
