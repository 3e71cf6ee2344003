"""The body's storability check, and the text that lets a body skip its walk."""
import json

import pytest
from hypothesis import given, settings, strategies as st

from helpers import assert_error
from vorel_lite.body import MAX_NESTING, check_storable, plainly_storable
from vorel_lite.errors import BadRequest

LEADS = "/api/v1/leads"

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
