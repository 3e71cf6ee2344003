"""The @documented decorator: each view states its operation next to its code."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Operation:
    operation_id: str
    summary: str
    request: type | None = None
    # False for an optional body: a request without one is as if it sent {}.
    request_required: bool = True
    query: type | None = None
    response: str | None = None
    status: int = 200
    errors: tuple = ()
    description: str | None = None
    success_description: str | None = None


def documented(operation_id, summary, **details):
    """Attach an OpenAPI operation description to a view."""
    operation = Operation(operation_id, summary, **details)

    def decorator(view):
        view.operation = operation
        return view
    return decorator
