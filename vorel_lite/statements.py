"""Hot statements: peewee writes their SQL once per database; each request only executes it.

Building a query and generating its SQL costs peewee several times what SQLite takes to run
it. A Statement is built once from a peewee query whose values are named holes (`param`),
so its SQL stays the dialect peewee writes for whichever database the app uses.
"""
import weakref

from peewee import Value

from .db import db


class Param(str):
    """The name of a hole in a statement, filled with a value at each execution."""


def param(name):
    """A hole named name; its value is sent to the database exactly as given."""
    return Value(Param(name), converter=False)


class Statement:
    """A query built by build() with param() holes, compiled once per database."""

    def __init__(self, build):
        self.build = build
        self.compiled = weakref.WeakKeyDictionary()

    def compile(self):
        """Return the SQL, its parameters (names or constants) and the selected fields."""
        database = db.obj
        try:
            return self.compiled[database]
        except KeyError:
            query = self.build()
            sql, params = query.sql()
            fields = tuple(getattr(query, "_returning", None) or ())
            self.compiled[database] = compiled = (sql, tuple(params), fields)
            return compiled

    def execute(self, values):
        """Run the statement with values for its holes; return the cursor."""
        sql, params, _ = self.compile()
        return db.execute_sql(sql, [values[p] if type(p) is Param else p for p in params])

    def scalar(self, **values):
        """Run the statement; return the first column of its first row, or None."""
        row = self.execute(values).fetchone()
        return None if row is None else row[0]


class Select(Statement):
    """A model's SELECT whose rows come back as model instances."""

    def __init__(self, model, build):
        super().__init__(build)
        self.model = model

    def rows(self, **values):
        """Return every selected row as an instance of the model."""
        fields = self.compile()[2]
        cursor = self.execute(values)
        return [self.instance(fields, row) for row in cursor.fetchall()]

    def first(self, **values):
        """Return the first selected row as an instance of the model, or None."""
        fields = self.compile()[2]
        row = self.execute(values).fetchone()
        return None if row is None else self.instance(fields, row)

    def instance(self, fields, row):
        data = {field.name: field.python_value(value) for field, value in zip(fields, row)}
        instance = self.model(__no_default__=1, **data)
        instance._dirty.clear()
        return instance


_inserts = {}
_updates = {}


def insert(model, **values):
    """Create, insert and return a row of model with every column, as model.create does."""
    statement = _inserts.get(model)
    if statement is None:
        fields = model._meta.sorted_fields
        statement = _inserts[model] = Statement(
            lambda: model.insert({field: param(field.name) for field in fields}))
    instance = model(**values)
    execute_with_columns(statement, instance)
    return instance


def update(instance):
    """Write every column of instance to its row, found by primary key, as save() does."""
    model = type(instance)
    statement = _updates.get(model)
    if statement is None:
        key = model._meta.primary_key
        columns = [field for field in model._meta.sorted_fields if field is not key]
        statement = _updates[model] = Statement(
            lambda: model.update({field: param(field.name) for field in columns})
            .where(key == param(key.name)))
    execute_with_columns(statement, instance)


def execute_with_columns(statement, instance):
    """Execute statement with every column of instance as the database stores it."""
    data = instance.__data__
    statement.execute({field.name: field.db_value(data.get(field.name))
                       for field in instance._meta.sorted_fields})
    instance._dirty.clear()
