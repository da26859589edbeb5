"""Scene kinds defined inside the tests (worked examples of the plug-in seam)."""

from __future__ import annotations

import contextlib
import importlib.metadata


@contextlib.contextmanager
def registered(name: str, value: str):
    """Register the kind ``value`` ("module:SPEC") through the function the entry-point loader
    calls, as an installed plug-in would be; unregister it afterwards."""
    from diffrast_cli.scene import registry
    ep = importlib.metadata.EntryPoint(name=name, value=value, group=registry.ENTRY_POINT_GROUP)
    spec = registry.load_entry_point(ep)
    try:
        yield spec
    finally:
        registry.unregister_kind(name)
