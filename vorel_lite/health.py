"""GET /healthz: whether this process can reach its database, for load balancers (no key)."""
import logging

from flask import Blueprint
from peewee import DatabaseError

from .auth import public
from .db import db

bp = Blueprint("health", __name__)
log = logging.getLogger("vorel_lite.health")


@bp.get("/healthz")
@public
def healthz():
    """Answer 200 when the database answers a query, else 503 with Retry-After."""
    try:
        db.execute_sql("SELECT 1").fetchone()
    except DatabaseError as exc:
        log.warning("health check: the database did not answer: %s", type(exc).__name__)
        return {"status": "unavailable", "database": "unreachable"}, 503, {"Retry-After": "5"}
    return {"status": "ok", "database": "ok"}
