"""Entry point for `flask --app app` and `gunicorn 'app:create_app()'`."""
from vorel_lite import create_app

__all__ = ["create_app"]
