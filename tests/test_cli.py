"""Operator commands: tenants, keys, demo."""
import re
import stat

from vorel_lite.models import ApiKey, Tenant

KEY = re.compile(r"vapk_(live|test)_[0-9a-f]{48}")


def run(runner, *args):
    return runner.invoke(args=list(args))


def test_tenants_create_prints_the_id_and_refuses_duplicates(app, runner):
    result = run(runner, "tenants", "create", "acme", "--name", "Acme Realty")
    assert result.exit_code == 0
    with app.app_context():
        tenant = Tenant.get(Tenant.slug == "acme")
    assert result.stdout.strip() == tenant.id and tenant.name == "Acme Realty"
    again = run(runner, "tenants", "create", "acme")
    assert again.exit_code != 0 and "already exists" in again.output
    assert run(runner, "tenants", "create", "Not A Slug").exit_code != 0
    listed = run(runner, "tenants", "list")
    assert listed.exit_code == 0 and "acme" in listed.output and tenant.id in listed.output


def test_keys_create_prints_the_key_alone_on_stdout(client, runner):
    run(runner, "tenants", "create", "acme")
    result = run(runner, "keys", "create", "--tenant", "acme", "--scope", "read",
                 "--scope", "leads:write", "--env", "test", "--name", "crm")
    assert result.exit_code == 0
    assert KEY.fullmatch(result.stdout.strip()) and result.stdout.startswith("vapk_test_")
    headers = {"Authorization": f"Bearer {result.stdout.strip()}"}
    assert client.get("/api/v1/leads", headers=headers).status_code == 200
    assert client.post("/api/v1/conversations", headers=headers, json={}).status_code == 403


def test_keys_create_refuses_unknown_scope_and_tenant(runner):
    run(runner, "tenants", "create", "acme")
    bad_scope = run(runner, "keys", "create", "--tenant", "acme", "--scope", "admin")
    assert bad_scope.exit_code != 0 and "admin" in bad_scope.output
    bad_tenant = run(runner, "keys", "create", "--tenant", "nobody", "--scope", "read")
    assert bad_tenant.exit_code != 0 and "nobody" in bad_tenant.output
    assert run(runner, "keys", "create", "--tenant", "acme").exit_code != 0


def test_keys_list_shows_prefix_last4_and_never_the_key(app, client, runner):
    run(runner, "tenants", "create", "acme")
    secret = run(runner, "keys", "create", "--tenant", "acme", "--scope", "read",
                 "--name", "zapier").stdout.strip()
    client.get("/api/v1/leads", headers={"Authorization": f"Bearer {secret}"})
    listed = run(runner, "keys", "list", "--tenant", "acme").output
    assert secret not in listed
    assert secret[:14] in listed and secret[-4:] in listed and "zapier" in listed
    assert "read" in listed and "never" not in listed and "active" in listed


def test_keys_revoke_by_id_or_by_key(app, client, runner):
    run(runner, "tenants", "create", "acme")
    secrets = [run(runner, "keys", "create", "--tenant", "acme", "--scope", "read"
                   ).stdout.strip() for _ in range(2)]
    with app.app_context():
        first_id = ApiKey.get(ApiKey.last4 == secrets[0][-4:]).id
    assert run(runner, "keys", "revoke", first_id).exit_code == 0
    assert run(runner, "keys", "revoke", secrets[1]).exit_code == 0
    for secret in secrets:
        assert client.get("/api/v1/leads", headers={"Authorization": f"Bearer {secret}"}
                          ).status_code == 401
    assert "revoked" not in run(runner, "keys", "list", "--tenant", "acme").output.split()[-1:]
    assert run(runner, "keys", "revoke", "no-such-key").exit_code != 0


def test_demo_issues_a_key_once_and_reuses_it(app, client, runner):
    first = run(runner, "demo")
    assert first.exit_code == 0
    secret = KEY.search(first.output).group(0)
    assert "curl" in first.output and "/api/v1/leads" in first.output
    key_file = f"{app.instance_path}/demo-key"
    assert stat.S_IMODE(__import__("os").stat(key_file).st_mode) == 0o600
    assert KEY.search(run(runner, "demo").output).group(0) == secret
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.post("/api/v1/conversations", headers=headers, json={
        "channel": "voice", "customer_identifier": "+1"}).status_code == 201
    run(runner, "keys", "revoke", secret)
    replaced = KEY.search(run(runner, "demo").output).group(0)
    assert replaced != secret
    assert client.get("/api/v1/leads", headers={"Authorization": f"Bearer {replaced}"}
                      ).status_code == 200
