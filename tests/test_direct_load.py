"""DirectLoad: the same data and the same errors as marshmallow's own load, faster."""
import pytest
from marshmallow import Schema, ValidationError, fields, validates_schema

from vorel_lite.schemas.direct import DirectLoad
from vorel_lite.schemas.leads import LeadCreate

CONVERSATION = "0F8A3C1E-5B2D-4E6F-8A9B-1C2D3E4F5A6B"
FULL = {"conversation_id": CONVERSATION, "name": "Layla", "email": "layla@example.com",
        "phone": "+971500000001", "intent": "buy", "timeline": "3 months",
        "qualification_score": 87.0, "status": "qualified", "source": "ad",
        "attributes": {"bedrooms": 3, "note": None}}


def marshmallow_load(schema):
    """Schema's load as marshmallow itself does it."""
    return lambda *args, **kwargs: Schema.load(schema, *args, **kwargs)


def outcome(load, data, **options):
    """What a load gives: ("data", result) or ("errors", messages, valid data)."""
    try:
        return "data", load(data, **options)
    except ValidationError as error:
        return "errors", error.messages, error.valid_data


@pytest.mark.parametrize("data", [
    FULL,
    {"conversation_id": CONVERSATION},
    {**FULL, "name": None, "email": None, "attributes": {}},
    {**FULL, "unknown": 1},
    {**FULL, "id": "x"},
    {"name": "no conversation"},
    {**FULL, "email": "not-an-email", "qualification_score": 101},
    {**FULL, "qualification_score": True},
    {**FULL, "status": None},
    {**FULL, "attributes": []},
    {**FULL, "attributes": {"": 1}},
    {**FULL, "conversation_id": "not-a-uuid"},
    {**FULL, "name": "x" * 201},
    {},
    [],
    [FULL],
    "text",
    None,
])
def test_a_lead_create_loads_as_marshmallow_loads_it(data):
    schema = LeadCreate()
    assert outcome(schema.load, data) == outcome(marshmallow_load(schema), data)


@pytest.mark.parametrize("options", [{"many": True}, {"partial": True}, {"unknown": "exclude"}])
def test_load_options_give_marshmallows_answer(options):
    schema = LeadCreate()
    data = [FULL] if options.get("many") else {**FULL, "extra": 1}
    assert outcome(schema.load, data, **options) == outcome(marshmallow_load(schema), data,
                                                            **options)


def test_a_load_of_a_valid_body_does_not_go_through_marshmallows_load(monkeypatch):
    schema = LeadCreate()
    expected = Schema.load(schema, FULL)
    monkeypatch.setattr(Schema, "load", lambda *args, **kwargs: pytest.fail("marshmallow"))
    assert schema.load(FULL) == expected
    assert expected["conversation_id"] == CONVERSATION.lower()


class Renamed(DirectLoad):
    phone = fields.String(data_key="phoneNumber", attribute="telephone", load_default=None)


class Checked(DirectLoad):
    name = fields.String()

    @validates_schema
    def refuse_bob(self, data, **kwargs):
        if data.get("name") == "bob":
            raise ValidationError("Not bob.")


def test_data_keys_attributes_and_schema_validators_are_honoured():
    assert Renamed().load({"phoneNumber": "+1"}) == {"telephone": "+1"}
    assert Renamed().load({}) == {"telephone": None}
    assert outcome(Renamed().load, {"phone": "+1"})[0] == "errors"
    # A schema with its own validators always takes marshmallow's path.
    assert Checked().load_plan() is None
    refused = ("errors", {"_schema": ["Not bob."]}, {"name": "bob"})
    assert outcome(Checked().load, {"name": "bob"}) == refused
