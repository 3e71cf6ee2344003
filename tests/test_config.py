"""Configuration: defaults, instance/config.py, VOREL_* environment variables."""
from vorel_lite import create_app


def test_defaults(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["RATELIMIT_PER_KEY"] == "200 per minute"
    assert app.config["RATELIMIT_PER_TENANT"] == "5000 per minute"
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024
    assert (tmp_path / "vorel.db").exists()


def test_instance_config_then_environment(tmp_path, monkeypatch):
    (tmp_path / "config.py").write_text('RATELIMIT_PER_KEY = "7 per minute"\n'
                                        'MAX_CONTENT_LENGTH = 2048\n')
    monkeypatch.setenv("VOREL_INSTANCE_PATH", str(tmp_path))
    app = create_app()
    assert app.config["RATELIMIT_PER_KEY"] == "7 per minute"
    monkeypatch.setenv("VOREL_RATELIMIT_PER_KEY", "9 per minute")
    monkeypatch.setenv("VOREL_MAX_CONTENT_LENGTH", "4096")
    monkeypatch.setenv("VOREL_DATABASE_URL", f"sqlite:///{tmp_path}/other.db")
    app = create_app()
    assert app.config["RATELIMIT_PER_KEY"] == "9 per minute"
    assert app.config["MAX_CONTENT_LENGTH"] == 4096
    assert (tmp_path / "other.db").exists()


def test_environment_limits_take_effect(tmp_path, monkeypatch):
    monkeypatch.setenv("VOREL_RATELIMIT_PER_KEY", "2 per minute")
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    runner = app.test_cli_runner()
    runner.invoke(args=["tenants", "create", "acme"])
    secret = runner.invoke(args=["keys", "create", "--tenant", "acme", "--scope", "read"]
                           ).stdout.strip()
    client = app.test_client()
    statuses = [client.get("/api/v1/leads", headers={"Authorization": f"Bearer {secret}"}
                           ).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_log_level_is_case_insensitive(tmp_path, monkeypatch):
    monkeypatch.setenv("VOREL_LOG_LEVEL", "warning")
    create_app({"INSTANCE_PATH": str(tmp_path)})


def test_two_apps_in_one_process_keep_their_own_databases(tmp_path):
    first = create_app({"INSTANCE_PATH": str(tmp_path / "one")})
    runner = first.test_cli_runner()
    runner.invoke(args=["tenants", "create", "acme"])
    secret = runner.invoke(args=["keys", "create", "--tenant", "acme", "--scope", "read"]
                           ).stdout.strip()
    second = create_app({"INSTANCE_PATH": str(tmp_path / "two")})
    headers = {"Authorization": f"Bearer {secret}"}
    assert first.test_client().get("/api/v1/leads", headers=headers).status_code == 200
    assert second.test_client().get("/api/v1/leads", headers=headers).status_code == 401
