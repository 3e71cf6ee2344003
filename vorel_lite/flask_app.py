"""The Flask class of the app: Flask, telling each hook and view sync or async only once."""
from flask import Flask

# Callables remembered at most: the app's hooks, views and error handlers are far fewer.
MAX_REMEMBERED = 1024


class App(Flask):
    """Flask, remembering what ensure_sync answered for each callable.

    Flask calls ensure_sync on every hook and view of every request (about 16 a request
    here), and each call asks inspect whether the callable is a coroutine function; the
    answer never changes for one callable. ensure_sync is Flask's documented override point.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sync_callables = {}

    def ensure_sync(self, func):
        remembered = self.sync_callables
        try:
            return remembered[func]
        except KeyError:
            sync = super().ensure_sync(func)
            if len(remembered) < MAX_REMEMBERED:
                remembered[func] = sync
            return sync
        except TypeError:
            # An unhashable callable (an object with __eq__ but no __hash__).
            return super().ensure_sync(func)
