"""Marshmallow schemas: the single statement of every body's and query's rules."""
