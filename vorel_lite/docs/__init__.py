"""GET /docs: Swagger UI over the served OpenAPI document, its assets served from here."""
from importlib.metadata import version
from importlib.resources import files

from flask import Blueprint, render_template, send_from_directory, url_for

from ..api import PREFIX
from ..auth import public

bp = Blueprint("docs", __name__, template_folder="templates")

# Swagger UI's own build, shipped by flask-swagger-ui (its blueprint is not used: its page
# starts Swagger UI from an inline script, which our Content-Security-Policy forbids).
SWAGGER_UI_DIST = str(files("flask_swagger_ui") / "dist")
OWN_ASSETS = str(files(__name__) / "static")
SWAGGER_UI_VERSION = version("flask-swagger-ui")
VOREL_LITE_VERSION = version("vorel-lite")
# The asset URLs carry the versions, so a year of caching never serves a stale file.
ASSET_MAX_AGE = 365 * 24 * 3600
CONTENT_SECURITY_POLICY = ("default-src 'self'; img-src 'self' data:; object-src 'none'; "
                           "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


def asset_url(filename):
    """Return the cache-busting URL of one of Swagger UI's files."""
    return url_for("docs.swagger_ui_asset", filename=filename, v=SWAGGER_UI_VERSION)


@bp.get("/docs")
@public
def show_docs():
    """Serve the interactive API reference (no key needed: "Authorize" takes one)."""
    page = render_template(
        "docs/index.html", asset_url=asset_url, document_url=f"{PREFIX}/openapi.json",
        init_url=url_for("docs.own_asset", filename="docs.js", v=VOREL_LITE_VERSION))
    return page, {"Content-Security-Policy": CONTENT_SECURITY_POLICY}


@bp.get("/docs/swagger-ui/<path:filename>")
@public
def swagger_ui_asset(filename):
    """Serve a file of Swagger UI's build."""
    return send_from_directory(SWAGGER_UI_DIST, filename, max_age=ASSET_MAX_AGE)


@bp.get("/docs/own/<path:filename>")
@public
def own_asset(filename):
    """Serve a file of this page's own (the script starting Swagger UI)."""
    return send_from_directory(OWN_ASSETS, filename, max_age=ASSET_MAX_AGE)
