"""`flask webhooks add/list/remove/redrive/test`."""
import re

import pytest

from receiver import Receiver
from vorel_lite.db import db
from vorel_lite.models import WebhookDelivery, WebhookSubscription

SECRET = re.compile(r"whsec_[0-9a-f]{48}")


@pytest.fixture
def acme(runner):
    assert runner.invoke(args=["tenants", "create", "acme"]).exit_code == 0


def run(runner, *args):
    return runner.invoke(args=list(args))


def test_add_prints_the_id_and_the_secret_once_and_stores_it_encrypted(app, runner, acme):
    result = run(runner, "webhooks", "add", "--tenant", "acme", "https://crm.example/hook",
                 "--event", "lead.created", "--description", "CRM")
    assert result.exit_code == 0
    subscription_id, secret = result.stdout.split()
    assert SECRET.fullmatch(secret)
    with app.app_context():
        row = WebhookSubscription.get_by_id(subscription_id)
        dump = " ".join(" ".join(map(str, r)) for r in db.execute_sql(
            "SELECT * FROM webhook_subscriptions").fetchall())
    assert row.events == "lead.created" and row.description == "CRM"
    assert secret not in dump and secret[6:] not in dump
    listed = run(runner, "webhooks", "list", "--tenant", "acme").output
    assert subscription_id in listed and secret[:10] in listed and secret not in listed
    assert "lead.created" in listed and "delivered=0" in listed and "dead=0" in listed


def test_all_events_by_default(app, runner, acme):
    run(runner, "webhooks", "add", "--tenant", "acme", "http://127.0.0.1:8080/")
    assert "  all  " in run(runner, "webhooks", "list").output


@pytest.mark.parametrize("args,complaint", [
    (["--tenant", "acme", "https://x.example", "--event", "lead.deleted"], "lead.deleted"),
    (["--tenant", "acme", "ftp://x.example/"], "http(s) URL"),
    (["--tenant", "acme", "x.example/hook"], "http(s) URL"),
    (["--tenant", "acme", "https://"], "http(s) URL"),
    (["--tenant", "acme", "https://x.example/h\r\nX-Injected: 1"], "control character"),
    (["--tenant", "acme", "https://x.example:99999/h"], "not a valid URL"),
    (["--tenant", "nobody", "https://x.example"], "nobody"),
])
def test_add_refuses_bad_input_clearly(runner, acme, args, complaint):
    result = run(runner, "webhooks", "add", *args)
    assert result.exit_code != 0 and complaint in result.output


def test_remove_deletes_the_subscription_and_its_deliveries(app, client, auth, runner):
    subscription_id = run(runner, "webhooks", "add", "--tenant", "acme",
                          "https://x.example/h").stdout.split()[0]
    client.post("/api/v1/conversations", headers=auth,
                json={"channel": "voice", "customer_identifier": "+1"})
    with app.app_context():
        assert WebhookDelivery.select().count() == 1
    assert run(runner, "webhooks", "remove", subscription_id).exit_code == 0
    with app.app_context():
        assert WebhookDelivery.select().count() == 0
        assert WebhookSubscription.select().count() == 0
    assert run(runner, "webhooks", "remove", subscription_id).exit_code != 0
    assert run(runner, "webhooks", "redrive", subscription_id).exit_code != 0


def test_test_command_sends_a_signed_event_and_reports_failure(runner, acme):
    receiver = Receiver([200, 500])
    try:
        subscription_id = run(runner, "webhooks", "add", "--tenant", "acme",
                              receiver.url).stdout.split()[0]
        ok = run(runner, "webhooks", "test", subscription_id)
        assert ok.exit_code == 0 and "HTTP 200" in ok.output
        failed = run(runner, "webhooks", "test", subscription_id)
        assert failed.exit_code != 0 and "500" in failed.output
        assert all("X-Webhook-Signature" in r["headers"] for r in receiver.received)
        assert receiver.received[0]["headers"]["X-Webhook-Event"] == "webhook.test"
    finally:
        receiver.close()
