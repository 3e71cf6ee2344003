"""Appointments: (being built)."""
from flask import Blueprint

from . import PREFIX

bp = Blueprint("appointments", __name__, url_prefix=f"{PREFIX}/appointments")
