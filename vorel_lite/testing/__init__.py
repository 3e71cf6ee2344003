"""vorel-lite as a stand-in in its users' tests: a live server on loopback, a tenant per test.

VorelServer and VorelTenant live in server.py and are imported on first use: pytest imports
this package (for the plugin beside it) in every run, which must stay cheap.
"""
__all__ = ["VorelServer", "VorelTenant"]


def __getattr__(name):
    if name in __all__:
        from . import server
        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
