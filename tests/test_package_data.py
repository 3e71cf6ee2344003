"""The wheel holds exactly the package's files, data folders too, and builds without warnings."""
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT_FILES = ("setup.cfg", "pyproject.toml", "README.md")
IGNORED_DATA_WARNINGS = ("would be ignored", "absent from the `packages` configuration")


def test_the_wheel_ships_every_file_of_the_package_and_setuptools_warns_of_none(tmp_path):
    # A clean copy: a stale build/ in the checkout would ship modules deleted since.
    source = tmp_path / "source"
    shutil.copytree(ROOT / "vorel_lite", source / "vorel_lite",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in PROJECT_FILES:
        shutil.copy(ROOT / name, source / name)
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "-v", "--no-deps",
                            "--wheel-dir", str(tmp_path / "dist"), str(source)],
                           capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stdout + build.stderr
    output = build.stdout + build.stderr
    assert not [warning for warning in IGNORED_DATA_WARNINGS if warning in output], output
    wheel = next((tmp_path / "dist").glob("vorel_lite-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        shipped = {name for name in archive.namelist() if name.startswith("vorel_lite/")}
    expected = {path.relative_to(source).as_posix()
                for path in (source / "vorel_lite").rglob("*") if path.is_file()}
    assert {name for name in expected if not name.endswith(".py")} >= {
        "vorel_lite/schema.sql", "vorel_lite/docs/templates/docs/index.html",
        "vorel_lite/console/static/console.css"}
    assert shipped == expected
