"""The pipeline floors (issue 11): vorel-lite's whole request pipeline around the bare create's
and the bare read's own sqlite3 work, in-process and under gunicorn.

The bench adds three routes to its own instance of vorel-lite's app (never to vorel_lite's
code): `POST /api/v1/bench-floor/leads`, `POST /api/v1/bench-floor/validated-leads` and
`GET /api/v1/bench-floor/leads/<id>`. Every hook runs as for `POST /api/v1/leads` and
`GET /api/v1/leads/{id}` (key check and cache, rate limiter and its headers, request log,
metrics, idempotency, the 401 and the same scope's 403), then the view does exactly what
bench/bare_app.py's create or read does; the validated create first loads the body as
`POST /api/v1/leads` does (vorel_lite.body.load_body with the LeadCreate schema: every
endpoint validates its body with marshmallow). So:
- pipeline floor / bare: what no change to the endpoint's own code can go below while the
  pipeline stays (and, for the create, while its body is validated);
- endpoint / pipeline floor: what the endpoint's own code (validation, ORM, events) costs.
"""
import os

from flask import Blueprint, g, request

import bare_app

PREFIX = "/api/v1/bench-floor"
# The real endpoints whose key check and scope each floor route takes.
CREATE_LEAD, READ_LEAD = "leads.create_lead", "leads.get_lead"


def add_floor_routes(app, database):
    """Add the two floor routes to a vorel-lite app (before its first request); return it.

    database: the SQLite file the app uses, opened beside it with the bare app's sqlite3
    connections.
    """
    from vorel_lite.api.leads import create_schema
    from vorel_lite.auth import require_scope
    from vorel_lite.body import load_body

    connection = bare_app.connector(str(database))
    bp = Blueprint("bench_floor", __name__, url_prefix=PREFIX)

    @bp.post("/leads")
    @require_scope(scope_of(app, CREATE_LEAD))
    def create_lead_floor():
        """The bare create's work behind POST /api/v1/leads' pipeline: 201 and the lead."""
        return bare_app.write_lead(connection(), request.get_json()), 201

    @bp.post("/validated-leads")
    @require_scope(scope_of(app, CREATE_LEAD))
    def create_validated_lead_floor():
        """The bare create's work on the body as POST /api/v1/leads loads it: 201, or 400."""
        return bare_app.write_lead(connection(), load_body(create_schema)), 201

    @bp.get("/leads/<lead_id>")
    @require_scope(scope_of(app, READ_LEAD))
    def read_lead_floor(lead_id):
        """The bare read's work for the key's tenant: 200 and the lead, or 404."""
        return bare_app.read_lead(connection(), lead_id, g.tenant_id)

    app.register_blueprint(bp)
    return app


def create_app():
    """gunicorn's factory (`pipeline_floor:create_app()`): vorel-lite's app with the floor
    routes, configured by its VOREL_* variables; VOREL_DATABASE_URL must be a SQLite file's."""
    from vorel_lite import create_app as create_vorel_app

    url = os.environ["VOREL_DATABASE_URL"]
    if not url.startswith("sqlite:///"):
        raise ValueError(f"the pipeline floors read SQLite files only, not {url!r}")
    return add_floor_routes(create_vorel_app(), url.removeprefix("sqlite:///"))


def scope_of(app, endpoint):
    """The scope the app's view of endpoint requires (AttributeError when it requires none)."""
    return app.view_functions[endpoint].required_scope
