"""GET /api/v1/analytics/weekly-rollup: counts of the tenant's own rows since `since`."""
from datetime import datetime, timedelta, timezone

import pytest

from helpers import assert_error
from vorel_lite.models import Conversation, Handoff, Message, Tenant, format_timestamp

URL = "/api/v1/analytics/weekly-rollup"


def ago(**delta):
    return datetime.now(timezone.utc) - timedelta(**delta)


def stamp(**delta):
    return format_timestamp(ago(**delta))


def rollup(client, auth, **query):
    response = client.get(URL, headers=auth, query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_an_empty_tenant_has_zeros_and_no_data(client, auth):
    body = rollup(client, auth)
    assert set(body) == {"since", "computed_at", "qa_avg", "qa_p50", "qa_p95",
                         "conversation_count", "agent_turn_count", "hallucination_flag_count",
                         "top_flag_kinds", "top_handoff_reasons"}
    assert body["qa_avg"] is body["qa_p50"] is body["qa_p95"] is None
    assert body["conversation_count"] == body["agent_turn_count"] == 0
    assert body["hallucination_flag_count"] == 0
    assert body["top_flag_kinds"] == [] and body["top_handoff_reasons"] == []
    since = datetime.fromisoformat(body["since"])
    assert abs(since - ago(days=7)) < timedelta(minutes=5)
    assert body["since"].endswith("Z") and len(body["since"]) == 27


def handoff(client, auth, lead_id, reason):
    body = {} if reason is None else {"reason": reason}
    assert client.post(f"/api/v1/leads/{lead_id}/handoff", headers=auth,
                       json=body).status_code == 201


def test_counts_come_from_the_tenants_own_recent_rows(app, client, auth, other_auth, lead):
    conversation_id = lead["conversation_id"]
    for text in ("one", "two", "three"):
        client.post(f"/api/v1/conversations/{conversation_id}/send", headers=auth,
                    json={"text": text})
    for reason in ["pricing"] * 3 + ["viewing"] * 2 + ["angry", "legal", "zoning", "zz"] \
            + [None, None, ""]:
        handoff(client, auth, lead["id"], reason)
    # Another tenant's rows, and this tenant's rows from before the period, do not count.
    other = client.post("/api/v1/conversations", headers=other_auth, json={
        "channel": "voice", "customer_identifier": "+1"}).get_json()
    client.post(f"/api/v1/conversations/{other['id']}/send", headers=other_auth,
                json={"text": "x"})
    with app.app_context():
        tenant = Tenant.get(slug="acme")
        old = Conversation.create(tenant=tenant, channel="email", customer_identifier="old",
                                  created_at=stamp(days=8))
        Message.create(tenant=tenant, conversation=old, sequence_number=1,
                       direction="outbound", text="old", sent_at=stamp(days=8))
        Message.create(tenant=tenant, conversation=old, sequence_number=2,
                       direction="inbound", text="a customer's turn")
        Handoff.create(tenant=tenant, lead=lead["id"], conversation=conversation_id,
                       reason="pricing", notified_channel="email", created_at=stamp(days=8))
    body = rollup(client, auth)
    assert body["conversation_count"] == 1
    assert body["agent_turn_count"] == 3
    assert body["top_handoff_reasons"] == [
        {"kind": "pricing", "count": 3}, {"kind": "viewing", "count": 2},
        {"kind": "angry", "count": 1}, {"kind": "legal", "count": 1},
        {"kind": "zoning", "count": 1}]
    # A longer period takes the older rows in.
    body = rollup(client, auth, since=stamp(days=9))
    assert body["conversation_count"] == 2 and body["agent_turn_count"] == 4
    assert body["top_handoff_reasons"][0] == {"kind": "pricing", "count": 4}


def test_since_is_inclusive_and_read_as_an_instant(app, client, auth):
    moment = ago(days=2).replace(microsecond=0)
    with app.app_context():
        tenant = Tenant.get(slug="acme")
        Conversation.create(tenant=tenant, channel="email", customer_identifier="edge",
                            created_at=format_timestamp(moment))
    at = moment.strftime("%Y-%m-%dT%H:%M:%S")
    assert rollup(client, auth, since=at + "Z")["conversation_count"] == 1
    later = (moment + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S")
    assert rollup(client, auth, since=later + "Z")["conversation_count"] == 0
    # The same instant written at +04:00.
    local = (moment + timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M:%S") + "+04:00"
    body = rollup(client, auth, since=local)
    assert body["conversation_count"] == 1 and body["since"] == format_timestamp(moment)


@pytest.mark.parametrize("delta", [timedelta(hours=1, minutes=1), timedelta(days=89, hours=23)])
def test_since_within_the_bounds_is_accepted(client, auth, delta):
    rollup(client, auth, since=format_timestamp(datetime.now(timezone.utc) - delta))


@pytest.mark.parametrize("delta", [timedelta(minutes=59), timedelta(days=90, minutes=1),
                                   timedelta(days=-1), timedelta(days=365)])
def test_a_since_outside_the_bounds_is_a_400_naming_it(client, auth, delta):
    # Computed when the test runs, not when it is collected: the suite takes minutes.
    since = format_timestamp(datetime.now(timezone.utc) - delta)
    assert_error(client.get(URL, headers=auth, query_string={"since": since}), 400,
                 "bad_request", "since")


@pytest.mark.parametrize("since", [
    "2026-01-01", "2026-11-29T10:00:00", "2026-11-29 10:00:00Z", "yesterday", "", "1700000000",
    "2026-02-30T10:00:00Z", "9999-12-31T23:59:59-01:00",
])
def test_a_since_that_is_no_date_time_with_an_offset_is_a_400_naming_it(client, auth, since):
    assert_error(client.get(URL, headers=auth, query_string={"since": since}), 400,
                 "bad_request", "since")


def test_unknown_and_repeated_parameters_are_400(client, auth):
    assert_error(client.get(URL + "?days=7", headers=auth), 400, "bad_request", "days")
    since = stamp(days=2)
    assert_error(client.get(URL, headers=auth, query_string=[("since", since), ("since", since)]),
                 400, "bad_request", "since")


def test_the_read_scope_and_a_key_are_required(client, make_key):
    assert_error(client.get(URL), 401, "unauthorized")
    writer = make_key("acme", scopes=("leads:write",))
    assert "'read'" in assert_error(client.get(URL, headers=writer), 403, "forbidden")["message"]
