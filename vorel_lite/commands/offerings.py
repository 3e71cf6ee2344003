"""`flask offerings ...`: the operator's side of the catalog."""
from flask.cli import AppGroup

offerings = AppGroup("offerings", help="Manage the catalog's offerings.")
