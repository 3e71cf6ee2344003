"""Operator commands of each domain, one module each (database, tenants and keys: cli.py)."""
