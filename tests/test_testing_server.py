"""VorelServer and the tenant handle, used in-process through the plugin's own fixtures."""
import os
import socket
import threading
import time

import pytest
from standardwebhooks import Webhook

from processes import connect, send_json
from vorel_lite.testing import VorelServer, server as testing_server

TIMEOUT = 60


def call(vorel, method, path, body=None, key=None):
    """Send one request to vorel's server; return (status, decoded body)."""
    port = int(vorel.base_url.rpartition(":")[2])
    status, _, decoded = send_json(connect(port, TIMEOUT), method, path,
                                   {"Authorization": f"Bearer {key or vorel.api_key}"}, body)
    return status, decoded


def create_conversation(vorel, customer):
    status, conversation = call(vorel, "POST", "/api/v1/conversations",
                                {"channel": "whatsapp", "customer_identifier": customer})
    assert status == 201, conversation
    return conversation


def test_events_are_every_page_newest_first_as_the_api_lists_them(vorel, monkeypatch):
    monkeypatch.setattr(testing_server, "EVENTS_PER_PAGE", 2)
    conversations = [create_conversation(vorel, f"+97150000000{n}") for n in range(3)]
    status, lead = call(vorel, "POST", "/api/v1/leads",
                        {"conversation_id": conversations[0]["id"]})
    assert status == 201

    listed, cursor = [], None
    while True:
        status, page = call(vorel, "GET", "/api/v1/events?limit=2"
                            + (f"&cursor={cursor}" if cursor else ""))
        assert status == 200
        listed += page["data"]
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]
    events = vorel.events()
    assert events == listed
    assert [event["event"] for event in events] == ["lead.created"] + ["conversation.created"] * 3
    assert [event["data"]["id"] for event in events[1:]] == [c["id"] for c in conversations[::-1]]
    assert vorel.events("lead.created") == [events[0]]
    assert vorel.events("booking.created") == []
    with pytest.raises(ValueError, match="unknown event type"):
        vorel.events("lead.eaten")


def test_a_key_has_just_the_scopes_asked_for(vorel):
    reader, writer = vorel.key("read"), vorel.key("conversations:write")
    assert len({reader, writer, vorel.api_key}) == 3
    assert reader.startswith("vapk_test_")
    assert call(vorel, "GET", "/api/v1/conversations", key=reader)[0] == 200
    assert call(vorel, "POST", "/api/v1/conversations", {}, key=reader)[0] == 403
    assert call(vorel, "GET", "/api/v1/conversations", key=writer)[0] == 403
    with pytest.raises(ValueError, match="at least one scope"):
        vorel.key()
    with pytest.raises(ValueError, match="unknown scope"):
        vorel.key("admin")


def test_tenants_of_one_server_see_only_their_own_rows(vorel, vorel_server):
    other = vorel_server.new_tenant()
    mine = create_conversation(vorel, "+971500000001")
    theirs = create_conversation(other, "+971500000001")
    assert call(vorel, "GET", "/api/v1/conversations")[1]["data"] == [mine]
    assert call(other, "GET", "/api/v1/conversations")[1]["data"] == [theirs]
    assert call(other, "GET", f"/api/v1/conversations/{mine['id']}")[0] == 404
    assert [event["data"] for event in other.events()] == [theirs]


def test_webhooks_are_retried_within_seconds_not_minutes(vorel, receivers):
    receiver = receivers(script=[500, 503])
    secret = vorel.subscribe(receiver.url, ["conversation.created"])
    conversation = create_conversation(vorel, "+971500000001")
    # The product's back-off would bring the third attempt after about 90 seconds.
    deadline = time.monotonic() + TIMEOUT
    while len(receiver.received) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [got["answer"] for got in receiver.received] == [500, 503, 200]
    assert [got["headers"]["X-Webhook-Attempt"] for got in receiver.received] == ["1", "2", "3"]
    delivered = receiver.received[-1]
    envelope = Webhook(secret).verify(delivered["body"], delivered["headers"])
    assert envelope == vorel.events("conversation.created")[0]
    assert envelope["data"] == conversation


def test_a_vorel_server_ignores_vorel_variables_and_leaves_nothing_behind(monkeypatch, tmp_path):
    monkeypatch.setenv("VOREL_DATABASE_URL", f"sqlite:///{tmp_path}/developers.db")
    monkeypatch.setenv("VOREL_RATELIMIT_PER_KEY", "1 per minute")
    threads_before = {thread.name for thread in threading.enumerate()}
    with VorelServer() as server:
        vorel = server.new_tenant("acme")
        assert vorel.tenant == "acme"
        assert [call(vorel, "GET", "/api/v1/leads")[0] for _ in range(2)] == [200, 200]
        assert server.app.config["DATABASE_URL"] == "sqlite:///:memory:"
        instance = server.app.instance_path
    assert os.environ["VOREL_DATABASE_URL"] == f"sqlite:///{tmp_path}/developers.db"
    assert not (tmp_path / "developers.db").exists()
    assert not os.path.exists(instance)
    left = {thread.name for thread in threading.enumerate()} - threads_before
    assert not [name for name in left if name.startswith(("vorel-", "waitress", "webhook"))]
    with socket.socket() as probe:
        # Refused while anything still listens there, whatever SO_REUSEADDR says.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", server.port))
