"""The references of the benchmarks: bare Flask routes, without anything vorel-lite adds.

- The ceiling, `GET /bare`: a constant JSON. Served exactly as vorel-lite is (`gunicorn
  'bare_app:create_app()'`, same workers), so the difference between the two is the cost of
  everything vorel-lite adds.
- The floor of a create, `POST /bare-write` (in-process only): what no lead creation can
  avoid. It parses the JSON body and writes the lead and its `lead.created` event in one
  transaction, with sqlite3 and hand-written SQL, into the same database, answering the lead.
  No authentication, rate limit, validation, ORM, request log or webhook fan-out.
- The floor of a read, `GET /bare-read/<id>` (in-process only): selects the lead by id and
  tenant (the tenant a key would have given) with sqlite3 and answers it as JSON, its
  attributes parsed; 404 when there is none.

The work of the last two, `write_lead` and `read_lead`, is also the view of the pipeline
floors (bench/pipeline_floor.py), behind vorel-lite's own request pipeline.
"""
import json
import sqlite3
import threading
import uuid
from datetime import datetime, timezone

from flask import Flask, request

CONSTANT = {"status": "ok", "service": "bare"}

LEAD_COLUMNS = ("id", "tenant_id", "conversation_id", "name", "email", "phone", "intent",
                "timeline", "qualification_score", "status", "source", "attributes",
                "created_at", "updated_at")
# The tenant is the conversation's, as vorel-lite checks it.
INSERT_LEAD = (f"INSERT INTO leads ({', '.join(LEAD_COLUMNS)}) SELECT ?, tenant_id, "
               f"{', '.join('?' for _ in LEAD_COLUMNS[2:])} FROM conversations WHERE id = ?")
INSERT_EVENT = ("INSERT INTO events (id, tenant_id, event, created_at, data) "
                "SELECT ?, tenant_id, 'lead.created', ?, ? FROM leads WHERE id = ?")


SELECT_LEAD = f"SELECT {', '.join(LEAD_COLUMNS)} FROM leads WHERE id = ? AND tenant_id = ?"


def create_app(database=None, tenant=None):
    """The bare app; with a database (a vorel-lite SQLite file), its write route too, and
    with a tenant as well, its read route."""
    app = Flask(__name__)

    @app.get("/bare")
    def bare():
        return CONSTANT

    if database is not None:
        connection = connector(str(database))
        add_write_route(app, connection)
        if tenant is not None:
            add_read_route(app, connection, tenant)
    return app


def connector(database):
    """Return a function giving this thread's sqlite3 connection to database."""
    local = threading.local()

    def connection():
        if not hasattr(local, "connection"):
            local.connection = sqlite3.connect(database, isolation_level=None)
            # vorel-lite's settings (vorel_lite/db.py).
            local.connection.execute("PRAGMA journal_mode = wal")
            local.connection.execute("PRAGMA synchronous = normal")
            local.connection.execute("PRAGMA foreign_keys = 1")
        return local.connection

    return connection


def add_read_route(app, connection, tenant):
    @app.get("/bare-read/<lead_id>")
    def bare_read(lead_id):
        return read_lead(connection(), lead_id, tenant)


def add_write_route(app, connection):
    @app.post("/bare-write")
    def bare_write():
        return write_lead(connection(), request.get_json()), 201


def read_lead(db, lead_id, tenant):
    """Select the tenant's lead with db (sqlite3); return (lead dict, 200) or (error, 404)."""
    row = db.execute(SELECT_LEAD, (lead_id, tenant)).fetchone()
    if row is None:
        return {"error": "not_found"}, 404
    lead = dict(zip(LEAD_COLUMNS, row))
    lead["attributes"] = json.loads(lead["attributes"])
    return lead, 200


def write_lead(db, body):
    """Write body's lead and its event in one transaction with db (sqlite3, autocommit);
    return the lead dict; LookupError when its conversation does not exist."""
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    lead = {"id": str(uuid.uuid4()), **{name: body.get(name) for name in LEAD_COLUMNS[2:11]},
            "status": body.get("status") or "new", "attributes": body.get("attributes") or {},
            "created_at": now, "updated_at": now}
    values = [lead[name] for name in LEAD_COLUMNS if name != "tenant_id"]
    values[LEAD_COLUMNS.index("attributes") - 1] = json.dumps(lead["attributes"])
    db.execute("BEGIN IMMEDIATE")
    try:
        if db.execute(INSERT_LEAD, [*values, body["conversation_id"]]).rowcount != 1:
            raise LookupError(f"no conversation {body['conversation_id']}")
        db.execute(INSERT_EVENT, [str(uuid.uuid4()), now, json.dumps(lead), lead["id"]])
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return lead
