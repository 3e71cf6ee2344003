"""Representation.dump answers exactly what marshmallow's own dump would, in half the time."""
import json
from types import SimpleNamespace

import pytest
from marshmallow import Schema, fields, post_dump, pre_dump

from vorel_lite.schemas.common import Representation
from vorel_lite.schemas.fields import CanonicalUUID, OffsetDateTime


def same_json(answer, expected):
    """Compare two dumps as the client would see them, member order included."""
    return json.dumps(answer, default=str) == json.dumps(expected, default=str)


@pytest.fixture
def compared_dumps(monkeypatch):
    """Check each Representation dump made meanwhile against marshmallow's; list the schemas."""
    planned = Representation.dump
    schemas = []

    def compared(schema, obj, *, many=None):
        answer = planned(schema, obj, many=many)
        assert same_json(answer, Schema.dump(schema, obj, many=many))
        schemas.append(type(schema).__name__ + (" many" if many else ""))
        return answer

    monkeypatch.setattr(Representation, "dump", compared)
    return schemas


def test_every_answer_of_the_api_is_what_marshmallow_would_dump(
        compared_dumps, client, auth, lead, offering, appointment):
    conversation_id = lead["conversation_id"]
    for path in (f"/api/v1/leads/{lead['id']}", "/api/v1/leads?limit=5",
                 f"/api/v1/conversations/{conversation_id}", "/api/v1/conversations",
                 f"/api/v1/offerings/{offering['id']}", "/api/v1/offerings",
                 f"/api/v1/appointments/{appointment['id']}", "/api/v1/appointments",
                 "/api/v1/events", "/api/v1/analytics/weekly-rollup", "/api/v1/nothing-here"):
        assert client.get(path, headers=auth).status_code in (200, 404)
    assert client.patch(f"/api/v1/leads/{lead['id']}", headers=auth,
                        json={"name": None, "attributes": {"a": [1, {"b": None}]}}
                        ).status_code == 200
    assert client.post(f"/api/v1/conversations/{conversation_id}/send", headers=auth,
                       json={"text": "Hello"}).status_code == 202
    assert client.post(f"/api/v1/leads/{lead['id']}/handoff", headers=auth,
                       json={"reason": "asks for a call"}).status_code == 201
    assert {"LeadOut", "LeadOut many", "ConversationOut", "ConversationOut many", "OfferingOut",
            "OfferingOut many", "AppointmentOut", "AppointmentOut many", "EventOut many",
            "RollupOut", "SendResultOut", "HandoffOut"} <= set(compared_dumps)


class Toy(Representation):
    id = CanonicalUUID()
    name = fields.String(allow_none=True)
    renamed = fields.Integer(data_key="count")
    status = fields.String(attribute="conversation.status")
    stamped = OffsetDateTime()
    fallback = fields.String(dump_default="none yet")
    computed = fields.String(dump_default=lambda: "made")
    absent = fields.Integer()
    constant = fields.Function(lambda obj: "always")
    tags = fields.List(fields.String())
    attributes = fields.Dict()


class OwnGetter(fields.String):
    def get_value(self, obj, attr, accessor=None, default=None):
        return "from get_value"


class WithOwnGetter(Representation):
    name = OwnGetter()


class WithHooks(Representation):
    name = fields.String()

    @pre_dump
    def before(self, obj, **kwargs):
        return SimpleNamespace(name=f"<{obj.name}>")

    @post_dump
    def after(self, data, **kwargs):
        return {**data, "hooked": True}


ROW = SimpleNamespace(id="0f8a3c1e-5b2d-4e6f-8a9b-1c2d3e4f5a6b", name="Layla", renamed=3,
                      conversation=SimpleNamespace(status="open"),
                      stamped="2030-03-01T10:00:00.000000Z", tags=["a", "b"],
                      attributes={"k": {"n": [1, None]}}, absent=None)
SPARSE = SimpleNamespace(name=None, conversation=SimpleNamespace(status=None))
AS_DICT = {"id": ROW.id, "name": "Dict", "renamed": 1, "conversation": {"status": "closed"},
           "stamped": ROW.stamped, "fallback": "given"}


@pytest.mark.parametrize("schema, obj, many", [
    (Toy(), ROW, False),
    (Toy(), SPARSE, False),
    (Toy(), AS_DICT, False),
    (Toy(), [ROW, SPARSE, AS_DICT], True),
    (Toy(), [], True),
    (Toy(many=True), [ROW], None),
    (Toy(only=("name", "renamed")), ROW, False),
    (Toy(exclude=("status",)), SPARSE, False),
    (WithOwnGetter(), ROW, False),
    (WithHooks(), ROW, False),
])
def test_the_dump_is_marshmallows(schema, obj, many):
    assert same_json(schema.dump(obj, many=many), Schema.dump(schema, obj, many=many))


def test_fields_read_through_marshmallow_where_it_would_do_more_than_getattr():
    plain = {name: direct for _, name, _, direct in Toy().dump_plan()}
    assert plain == {"id": True, "name": True, "renamed": True, "status": False,
                     "stamped": True, "fallback": True, "computed": True, "absent": True,
                     "constant": False, "tags": True, "attributes": True}
    assert [direct for *_, direct in WithOwnGetter().dump_plan()] == [False]
    assert WithHooks().dump_plan() is None
