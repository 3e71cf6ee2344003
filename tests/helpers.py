"""Assertions shared by the API tests."""


def assert_error(response, status, code, field=None):
    """Assert an error envelope, and that it names field when one is given."""
    assert response.status_code == status, response.get_json()
    assert response.content_type == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    assert set(error) <= {"code", "message", "fields", "existing_id"}
    if field is not None:
        assert field in error["fields"], error
        assert field in error["message"]
    return error
