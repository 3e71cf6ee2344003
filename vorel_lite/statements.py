"""Hot statements: peewee writes their SQL once per database; each request only executes it.

Building a query and generating its SQL costs peewee several times what SQLite takes to run
it. A Statement is built once from a peewee query whose values are named holes (`param`),
so its SQL stays the dialect peewee writes for whichever database the app uses.
"""
import functools
import weakref

from peewee import Value

from .db import db, lock_for_update


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

    def compile(self, database=None):
        """Return the SQL, its parameters (names or constants) and columns_of the selected
        fields, for database (by default the app's)."""
        database = db.obj if database is None else database
        try:
            return self.compiled[database]
        except KeyError:
            query = self.build()
            sql, params = query.sql()
            fields = tuple(getattr(query, "_returning", None) or ())
            self.compiled[database] = compiled = (sql, tuple(params), self.columns_of(fields))
            return compiled

    def columns_of(self, fields):
        """What run() returns beside the cursor, for the selected fields: the fields."""
        return fields

    def execute(self, values):
        """Run the statement with values for its holes; return the cursor."""
        return self.run(values)[0]

    def run(self, values):
        """Run the statement with values for its holes; return the cursor and columns_of the
        selected fields."""
        # The proxy resolves the app's database on every use: once is enough.
        database = db.obj
        sql, params, columns = self.compile(database)
        cursor = database.execute_sql(sql, [values[p] if type(p) is Param else p for p in params])
        return cursor, columns

    def scalar(self, **values):
        """Run the statement; return the first column of its first row, or None."""
        row = self.execute(values).fetchone()
        return None if row is None else row[0]


class Select(Statement):
    """A model's SELECT whose rows come back as model instances."""

    def __init__(self, model, build):
        super().__init__(build)
        self.model = model

    def columns_of(self, fields):
        """Each selected field's name and its conversion of the database's value."""
        return tuple((field.name, field.python_value) for field in fields)

    def rows(self, **values):
        """Return every selected row as an instance of the model."""
        cursor, columns = self.run(values)
        return [self.instance(columns, row) for row in cursor.fetchall()]

    def first(self, **values):
        """Return the first selected row as an instance of the model, or None."""
        cursor, columns = self.run(values)
        row = cursor.fetchone()
        return None if row is None else self.instance(columns, row)

    def instance(self, columns, row):
        """The model instance of row, as peewee's model(__no_default__=1, **data) followed by
        _dirty.clear() builds it (tests/test_statements.py compares both), without a setattr
        per field: the values as converted, nothing dirty, no related instance."""
        model = self.model
        instance = model.__new__(model)
        instance.__data__ = {name: convert(value) for (name, convert), value in zip(columns, row)}
        instance._dirty = set()
        instance.__rel__ = {}
        return instance


@functools.cache
def owned_select(model, for_update=False, with_deleted=False):
    """The statement selecting a tenant's row of model by id (and locking it).

    A soft-deleted row (deleted_at set, where the model has that column) is not found unless
    with_deleted is true.
    """
    def build():
        query = model.select().where(
            (model.id == param("id")) & (model.tenant == param("tenant"))).limit(1)
        if hasattr(model, "deleted_at") and not with_deleted:
            query = query.where(model.deleted_at.is_null())
        return lock_for_update(query) if for_update else query
    return Select(model, build)


@functools.cache
def insert_statement(model):
    """The INSERT of every column of model."""
    fields = model._meta.sorted_fields
    return Statement(lambda: model.insert({field: param(field.name) for field in fields}))


@functools.cache
def update_statement(model):
    """The UPDATE of every column of model's row, found by primary key."""
    key = model._meta.primary_key
    columns = [field for field in model._meta.sorted_fields if field is not key]
    return Statement(lambda: model.update({field: param(field.name) for field in columns})
                     .where(key == param(key.name)))


@functools.cache
def owned_insert_statement(model, parent):
    """The INSERT of every column of model that inserts nothing unless the row of the foreign
    key parent is the row's tenant's: the parent's check and the insert in one statement."""
    fields = model._meta.sorted_fields
    owner = parent.rel_model
    return Statement(lambda: model.insert_from(
        owner.select(*[param(field.name) for field in fields]).where(
            (owner.id == param(parent.name)) & (owner.tenant == param("tenant"))),
        fields))


def insert(model, parent=None, **values):
    """Create, insert and return a row of model with every column, as model.create does.

    parent: a foreign key of model (Lead.conversation); when its row is not the tenant's of
    the new row, nothing is inserted and None is returned.
    """
    instance = new_row(model, values)
    if parent is None:
        execute_with_columns(insert_statement(model), instance)
    elif not execute_with_columns(owned_insert_statement(model, parent), instance).rowcount:
        return None
    return instance


def new_row(model, values):
    """Return model(**values), computing only the defaults that values leave out."""
    instance = model(__no_default__=1, **values)
    data = instance.__data__
    for field, default in model._meta.defaults.items():
        if field.name not in data:
            data[field.name] = default() if callable(default) else default
    return instance


def update(instance):
    """Write every column of instance to its row, found by primary key, as save() does."""
    execute_with_columns(update_statement(type(instance)), instance)


def execute_with_columns(statement, instance):
    """Execute statement with every column of instance as the database stores it; return the
    cursor."""
    data = instance.__data__
    cursor = statement.execute({field.name: field.db_value(data.get(field.name))
                                for field in instance._meta.sorted_fields})
    instance._dirty.clear()
    return cursor
