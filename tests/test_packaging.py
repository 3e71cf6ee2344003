"""The built package carries what it needs (schema.sql, migrations) and runs anywhere."""
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_ships_the_schema_and_serves_from_elsewhere(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--wheel-dir", str(tmp_path / "dist"), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    wheel = next((tmp_path / "dist").glob("vorel_lite-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        assert "vorel_lite/schema.sql" in archive.namelist()
        migrations = {f"vorel_lite/migrations/{path.name}"
                      for path in (ROOT / "vorel_lite" / "migrations").glob("*.sql")}
        assert migrations and migrations <= set(archive.namelist())
        archive.extractall(tmp_path / "site")
    script = ("import vorel_lite; assert vorel_lite.__file__.startswith(%r);"
              "app = vorel_lite.create_app({'DATABASE_URL': 'sqlite:///:memory:',"
              " 'INSTANCE_PATH': %r});"
              "c = app.test_client();"
              "print(*(c.get(url).status_code for url in"
              " ('/api/v1/openapi.json', '/docs', '/docs/own/docs.js', '/login',"
              "  '/console/static/console.css', '/console/static/console.js')))"
              % (str(tmp_path / "site"), str(tmp_path / "instance")))
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60, env={"PYTHONPATH": str(tmp_path / "site")})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "200 200 200 200 200 200"
