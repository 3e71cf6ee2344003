"""SECRET_KEY: a string of 16 characters or more when set, generated into the instance when not."""
import pytest

from vorel_lite import create_app


@pytest.mark.parametrize("value, found", [
    ("null", "not null"),
    ("false", "type bool"),
    ("true", "type bool"),
    ("0", "type int"),
    ("12345678901234567890", "type int"),
    ('""', "not 0 characters"),
    ("", "not 0 characters"),
    ("fifteen-chars!!", "not 15 characters"),
    ('{"key": "a-long-enough-secret"}', "type dict"),
])
def test_a_set_key_that_is_no_string_of_16_characters_stops_start_up(
        tmp_path, monkeypatch, value, found):
    monkeypatch.setenv("VOREL_SECRET_KEY", value)
    with pytest.raises(ValueError, match="SECRET_KEY must be a string of at least 16") as error:
        create_app({"INSTANCE_PATH": str(tmp_path)})
    assert found in str(error.value)
    if len(value) > len("false"):  # shorter ones are words the message names itself
        assert value not in str(error.value)
    assert not (tmp_path / "secret-key").exists()


def test_a_key_of_16_characters_is_used_as_given(tmp_path, monkeypatch):
    monkeypatch.setenv("VOREL_SECRET_KEY", "sixteen-chars-ok")
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["SECRET_KEY"] == "sixteen-chars-ok"
    assert not (tmp_path / "secret-key").exists()


def test_a_short_key_in_the_instance_config_stops_start_up(tmp_path):
    with pytest.raises(ValueError, match="not 5 characters"):
        create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "short"})


def test_an_unset_key_is_generated_once_into_the_instance(tmp_path):
    first = create_app({"INSTANCE_PATH": str(tmp_path)}).config["SECRET_KEY"]
    again = create_app({"INSTANCE_PATH": str(tmp_path)}).config["SECRET_KEY"]
    assert len(first) >= 16 and first == again
    assert (tmp_path / "secret-key").read_text().strip() == first
