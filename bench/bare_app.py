"""The ceiling of the benchmarks: a bare Flask app with one route returning a constant JSON.

Served exactly as vorel-lite is (`gunicorn 'bare_app:create_app()'`, same workers), so the
difference between the two is the cost of everything vorel-lite adds.
"""
from flask import Flask

CONSTANT = {"status": "ok", "service": "bare"}


def create_app():
    app = Flask(__name__)

    @app.get("/bare")
    def bare():
        return CONSTANT

    return app
