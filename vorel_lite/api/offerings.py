"""Offerings: (being built)."""
from flask import Blueprint

from . import PREFIX

bp = Blueprint("offerings", __name__, url_prefix=f"{PREFIX}/offerings")
