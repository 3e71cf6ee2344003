"""The served document through three client generators: each makes a clean client of it.

openapi-python-client (PyPI, in the `test` extra), openapi-typescript and @hey-api/openapi-ts
(npm, pinned in tests/generators/package.json; `make test` installs them when npm is there).
A machine without node or those packages skips the TypeScript ones, with the reason shown
(and fails them where VOREL_TEST_REQUIRE_SERVICES=1, as in CI: tests/services.py).
"""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest

from openapi_helpers import OPENAPI
from services import skip_or_fail
from vorel_lite import create_app

GENERATORS = Path(__file__).parent / "generators"
NODE_BIN = GENERATORS / "node_modules" / ".bin"
# The seed's own components keep `nullable: true` beside `type: [T, "null"]` (the seed's text),
# which openapi-typescript reads as null twice: the one place a doubled null is expected.
SEED_COMPONENTS = ("Lead", "LeadCreate")


@pytest.fixture(scope="module")
def document(tmp_path_factory):
    """The served document, written to a file; returns (path, parsed document)."""
    directory = tmp_path_factory.mktemp("generated-clients")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("VOREL_")}
    with mock.patch.dict(os.environ, environment, clear=True):
        app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{directory}/db.sqlite",
                          "INSTANCE_PATH": str(directory / "instance")})
    served = app.test_client().get(OPENAPI).get_json()
    path = directory / "openapi.json"
    path.write_text(json.dumps(served))
    return path, served


def node_tool(name):
    """Return the path of an npm-installed generator, or skip visibly without it."""
    if shutil.which("node") is None:
        skip_or_fail("node is not installed: the TypeScript generators are not run")
    tool = NODE_BIN / name
    if not tool.exists():
        skip_or_fail(f"{name} is not installed: run `npm ci --prefix {GENERATORS}`")
    return tool


def run(*command, cwd=None):
    """Run a generator; fail with its output if it fails."""
    done = subprocess.run([str(part) for part in command], cwd=cwd, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, f"{command[0]} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def schemas_of(served):
    """Return the component schemas that are objects (the generators' models)."""
    return {name: schema for name, schema in served["components"]["schemas"].items()
            if "properties" in schema}


def nullable_properties(schema):
    """Name the properties of a schema that may be null (3.1 type list or anyOf null)."""
    return {name for name, prop in schema["properties"].items()
            if "null" in prop.get("type", []) or {"type": "null"} in prop.get("anyOf", [])}


def type_check(directory, entry):
    """Compile generated TypeScript strictly, emitting nothing."""
    run(node_tool("tsc"), "--noEmit", "--strict", "--target", "es2022", "--module", "nodenext",
        "--moduleResolution", "nodenext", "--lib", "es2022,dom,dom.iterable", entry,
        cwd=directory)


def test_openapi_typescript_says_null_once_except_in_the_seed_pair(document, tmp_path):
    path, served = document
    output = tmp_path / "schema.d.ts"
    run(node_tool("openapi-typescript"), path, "-o", output)
    text = output.read_text()
    doubled, component, in_schemas = set(), None, False
    for line in text.splitlines():
        if line == "    schemas: {":
            in_schemas = True
        elif line == "    };":
            in_schemas = False
        elif in_schemas and (match := re.fullmatch(r" {8}(\w+): \{", line)):
            component = match[1]
        if "| null) | null" in line:
            name = re.match(r"\s*(\w+)\??:", line)
            doubled.add((component if in_schemas else None, name[1] if name else line))
    allowed = {(name, prop) for name in SEED_COMPONENTS
               for prop, schema in served["components"]["schemas"][name]["properties"].items()
               if schema.get("nullable")}
    assert doubled <= allowed, f"null said twice: {sorted(doubled - allowed, key=str)}"
    for name in schemas_of(served):
        assert f"        {name}: {{" in text, name
    type_check(tmp_path, output.name)


def test_hey_api_openapi_ts_keeps_every_null_once(document, tmp_path):
    path, served = document
    run(node_tool("openapi-ts"), "-i", path, "-o", tmp_path / "client")
    text = (tmp_path / "client" / "types.gen.ts").read_text()
    assert "| null) | null" not in text
    for name, schema in schemas_of(served).items():
        block = re.search(rf"^export type {name} = \{{\n(.*?)^\}};", text, re.M | re.S)
        assert block, f"no type {name}"
        # name: type (its first line only, for an object type written over several lines)
        typed = dict(re.findall(r"^    (\w+)\??: (.*?);?$", block[1], re.M))
        assert set(typed) == set(schema["properties"]), name
        for prop in nullable_properties(schema):
            assert typed[prop].endswith("| null"), (name, prop, typed[prop])
    type_check(tmp_path / "client", "index.ts")


def test_openapi_python_client_makes_one_enum_per_field(document, tmp_path):
    path, served = document
    generator = Path(sys.executable).with_name("openapi-python-client")
    if not generator.exists():
        skip_or_fail("openapi-python-client is not installed: pip install -e '.[test]'")
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"post_hooks": []}))  # no ruff run on the output
    said = run(generator, "generate", "--path", path, "--output-path", tmp_path / "vorel_client",
               "--meta", "none", "--config", config)
    assert "Warning" not in said and "Unable" not in said, said
    enums = {}
    for model in (tmp_path / "vorel_client" / "models").glob("*.py"):
        source = model.read_text()
        for name, body in re.findall(r"^class (\w+)\(\w*Enum\):\n((?:    .*\n|\n)*)", source,
                                     re.M):
            values = frozenset(re.findall(r'^    \w+ = (".*?"|\d+)$', body, re.M))
            # Several classes of one field differ only by TypeN parts of their names.
            enums.setdefault((re.sub(r"Type\d+", "", name), values), []).append(name)
    assert enums, "no enum classes were generated"
    duplicates = [names for names in enums.values() if len(names) > 1]
    assert not duplicates, f"identical enum classes for one field: {duplicates}"
    names = sorted(schemas_of(served))
    imported = run(sys.executable, "-c", "import vorel_client.models as m; "
                   f"print(all(hasattr(m, name) for name in {names!r}))", cwd=tmp_path)
    assert imported.strip() == "True"
