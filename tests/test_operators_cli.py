"""`flask operators create|list|remove`: the console's accounts, one tenant each."""
import pytest
from werkzeug.security import check_password_hash

from vorel_lite.models import Operator, Tenant
from vorel_lite.operators import authenticate, normalise_email

PASSWORD = "correct horse battery"


@pytest.fixture
def tenants(app):
    """Tenants acme and globex."""
    with app.app_context():
        return {slug: Tenant.create(slug=slug, name=slug.title()) for slug in ("acme", "globex")}


def create(runner, email, tenant="acme", password=PASSWORD):
    """Run `operators create` with the password on standard input."""
    return runner.invoke(args=["operators", "create", email, "--tenant", tenant,
                               "--password-stdin"], input=f"{password}\n")


def test_create_stores_a_normalised_email_and_a_scrypt_hash(app, runner, tenants):
    result = create(runner, "  Layla.Haddad@Example.COM ")
    assert result.exit_code == 0, result.output
    with app.app_context():
        operator = Operator.get()
        assert result.stdout == f"{operator.id}\n"
        assert "can now sign in at /login" in result.stderr
        assert operator.email == "layla.haddad@example.com"
        assert operator.tenant_id == tenants["acme"].id
        assert operator.password_hash.startswith("scrypt:")
        assert PASSWORD not in operator.password_hash
        assert check_password_hash(operator.password_hash, PASSWORD)


def test_create_asks_for_the_password_twice_without_echoing_it(app, runner, tenants):
    result = runner.invoke(args=["operators", "create", "ops@example.com", "--tenant", "acme"],
                           input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert result.output.count("Password") == 1 and "Repeat for confirmation" in result.output
    assert PASSWORD not in result.output
    with app.app_context():
        assert authenticate("ops@example.com", PASSWORD).email == "ops@example.com"


def test_two_different_answers_to_the_prompt_are_asked_again(app, runner, tenants):
    result = runner.invoke(args=["operators", "create", "ops@example.com", "--tenant", "acme"],
                           input=f"{PASSWORD}\nsomething else\n{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "Error: The two entered values do not match." in result.output


@pytest.mark.parametrize("email, tenant, password, message", [
    ("not-an-email", "acme", PASSWORD, "not a valid email address"),
    ("ops@", "acme", PASSWORD, "not a valid email address"),
    ("ops@example.com", "acme", "too short", "at least 10 characters"),
    ("ops@example.com", "acme", "x" * 1025, "at most 1024 characters"),
    ("ops@example.com", "nope", PASSWORD, "no tenant with slug 'nope'"),
])
def test_create_refuses_bad_input_and_writes_nothing(app, runner, tenants, email, tenant,
                                                     password, message):
    result = create(runner, email, tenant, password)
    assert result.exit_code == 1
    assert message in result.output
    with app.app_context():
        assert Operator.select().count() == 0


def test_an_email_belongs_to_one_operator_across_tenants(app, runner, tenants):
    assert create(runner, "ops@example.com").exit_code == 0
    result = create(runner, "OPS@example.com", tenant="globex")
    assert result.exit_code == 1
    assert "an operator with email 'ops@example.com' already exists" in result.output
    with app.app_context():
        assert [o.tenant_id for o in Operator.select()] == [tenants["acme"].id]


def test_list_shows_every_operator_or_one_tenants(app, runner, tenants):
    for email, tenant in (("a@example.com", "acme"), ("g@example.com", "globex")):
        assert create(runner, email, tenant).exit_code == 0
    lines = runner.invoke(args=["operators", "list"]).output.splitlines()
    assert [line.split("  ")[1:3] for line in lines] == [["a@example.com", "acme"],
                                                         ["g@example.com", "globex"]]
    only = runner.invoke(args=["operators", "list", "--tenant", "globex"]).output
    assert "g@example.com" in only and "a@example.com" not in only
    assert all("scrypt" not in line for line in lines)


def test_remove_deletes_the_operator(app, runner, tenants):
    assert create(runner, "ops@example.com").exit_code == 0
    result = runner.invoke(args=["operators", "remove", " OPS@example.com"])
    assert result.exit_code == 0, result.output
    assert result.output == "Removed ops@example.com.\n"
    with app.app_context():
        assert Operator.select().count() == 0
    again = runner.invoke(args=["operators", "remove", "ops@example.com"])
    assert again.exit_code == 1 and "no operator with email 'ops@example.com'" in again.output


def test_authenticate_needs_the_right_email_and_password(app, runner, tenants):
    assert create(runner, "ops@example.com").exit_code == 0
    with app.app_context():
        assert authenticate(" Ops@Example.com", PASSWORD).email == "ops@example.com"
        assert authenticate("ops@example.com", PASSWORD + "!") is None
        assert authenticate("nobody@example.com", PASSWORD) is None
        assert authenticate("not an email", PASSWORD) is None
        assert authenticate("ops@example.com", "x" * 5000) is None


def test_normalise_email_trims_and_lowers_the_whole_address():
    assert normalise_email("  Ops.Team@Example.COM\n") == "ops.team@example.com"
    with pytest.raises(ValueError, match="not a valid email address"):
        normalise_email("two@@example.com")


def test_demo_says_how_to_create_the_first_operator_and_where_to_sign_in(app, runner):
    output = runner.invoke(args=["demo", "--base-url", "http://127.0.0.1:5055"]).output
    assert "The operator console (overview, leads, conversations, API keys, webhooks) is at\n" \
           "http://127.0.0.1:5055/login." in output
    command = next(line.split()[3:] for line in output.splitlines()
                   if "operators create" in line)
    assert command == ["operators", "create", "you@example.com", "--tenant", "demo"]
    result = runner.invoke(args=command, input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert authenticate("you@example.com", PASSWORD).tenant.slug == "demo"
