"""The registry of scene kinds: name -> config model, scene class, shader folder.

A kind is one module or package under ``diffrast_cli/scene/`` (or any importable
package) plus its shaders. It registers a :class:`KindSpec`; the job schema's
``scene`` section is the union of the registered config models, discriminated
by ``kind`` (default ``soup``), and is rebuilt whenever a kind registers.

Kinds outside this package register through the entry-point group
``diffrast.scene_kinds``: the entry point names a ``KindSpec`` (or a callable
returning one), e.g. in the plug-in's pyproject.toml::

    [project.entry-points."diffrast.scene_kinds"]
    quads = "my_package.quads:SPEC"

The environment variable ``DIFFRAST_SCENE_KINDS`` (``module:attr`` entries,
separated by ``,``) loads kinds the same way without installing a package
(development, tests). Both paths go through :func:`load_entry_point`. A plug-in
that cannot be loaded (no such module, no such attribute, an exception while
importing or registering it) is a ConfigError naming it and where it was named;
the command line loads every kind before any command runs, so each command
fails the same way, on one line with exit code 2. :func:`kind_sources` says
where each registered kind came from (``diffrast info`` lists them).
"""

from __future__ import annotations

import importlib.metadata
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import ConfigError, one_line

ENTRY_POINT_GROUP = "diffrast.scene_kinds"
ENV_VAR = "DIFFRAST_SCENE_KINDS"
ENV_GROUP = f"{ENTRY_POINT_GROUP} (${ENV_VAR})"   # the group of the entry points made from it
DEFAULT_KIND = "soup"


@dataclass(frozen=True)
class KindSpec:
    name: str               # the value of scene.kind
    config: type            # pydantic model of the scene section; its `kind` field is Literal[name]
    factory: type           # the SceneKind subclass
    shader_dir: Path | None = None   # None: glsl/scene/<name>/ of the shipped shaders
    path_keys: tuple = ()            # keys of its config that are input paths (relative to the job file)

    def shader_path(self) -> Path:
        if self.shader_dir is not None:
            return Path(self.shader_dir)
        from ..gl.shaders import glsl_dir      # read each time: DIFFRAST_GLSL_DIR may change
        return glsl_dir() / "scene" / self.name


_KINDS: dict[str, KindSpec] = {}
_SOURCES: dict[str, str] = {}     # kind name -> where it came from, for listings
BUILT_IN = "built in"
_LISTENERS: list[Callable[[], None]] = []
_loaded = False


def register_kind(spec: KindSpec, source: str = BUILT_IN) -> KindSpec:
    """Add (or replace) a kind; the job schema is rebuilt to include it. ``source``: where it came
    from (shown by ``diffrast info``)."""
    if not spec.name.isidentifier():
        raise ValueError(f"scene kind name {spec.name!r} must be an identifier")
    field = getattr(spec.config, "model_fields", {}).get("kind")
    if field is None or getattr(field.annotation, "__args__", None) != (spec.name,):
        raise ValueError(f"scene kind {spec.name!r}: its config model needs kind: Literal[{spec.name!r}]")
    _KINDS[spec.name] = spec
    _SOURCES[spec.name] = source
    for listener in _LISTENERS:
        listener()
    return spec


def unregister_kind(name: str) -> None:
    """Remove a kind (tests); the schema is rebuilt without it."""
    _SOURCES.pop(name, None)
    if _KINDS.pop(name, None) is not None:
        for listener in _LISTENERS:
            listener()


def on_change(listener: Callable[[], None]) -> None:
    _LISTENERS.append(listener)


def entry_point_source(entry_point) -> str:
    """Where an entry point was named: $DIFFRAST_SCENE_KINDS, or the installed package declaring it."""
    if entry_point.group == ENV_GROUP:
        return f"${ENV_VAR}"
    dist = getattr(entry_point, "dist", None)
    package = f" of {dist.name} {dist.version}" if dist is not None else ""
    return f"entry point {entry_point.name!r}{package} (group {ENTRY_POINT_GROUP})"


def load_entry_point(entry_point) -> KindSpec:
    """Register the kind an entry point (importlib.metadata.EntryPoint) names."""
    source = entry_point_source(entry_point)
    where = f"scene kind plug-in {entry_point.value!r} (from {source})"
    try:
        obj = entry_point.load()
        spec = obj if isinstance(obj, KindSpec) else obj() if callable(obj) else None
    except (Exception, SystemExit) as exc:       # a plug-in's import or factory failed: name it, one line
        raise ConfigError(f"{where}: cannot be loaded: {exc.__class__.__name__}: {one_line(exc)}") from None
    if not isinstance(spec, KindSpec):
        raise ConfigError(f"{where}: names neither a KindSpec nor a function returning one")
    try:
        return register_kind(spec, source)
    except ValueError as exc:
        raise ConfigError(f"{where}: {one_line(exc)}") from None



def _env_entry_points() -> list:
    values = [v.strip() for v in os.environ.get(ENV_VAR, "").split(",") if v.strip()]
    return [importlib.metadata.EntryPoint(name=v, value=v, group=ENV_GROUP) for v in values]


def load_kinds() -> None:
    """The shipped kinds, the installed plug-ins and those of $DIFFRAST_SCENE_KINDS (once)."""
    global _loaded
    if _loaded:
        return
    _loaded = True                            # before loading: registering rebuilds the schema, which asks
    try:
        from . import mesh, soft, soup, splats, subdiv, volume  # noqa: F401  (they register themselves)
        for ep in list(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)) + _env_entry_points():
            load_entry_point(ep)
    except BaseException:
        _loaded = False                       # a broken plug-in fails every time, not only the first
        raise


def kinds() -> dict[str, KindSpec]:
    load_kinds()
    return dict(_KINDS)


def kind_sources() -> dict[str, str]:
    """Registered kind name -> where it came from ("built in", an entry point, $DIFFRAST_SCENE_KINDS)."""
    load_kinds()
    return {name: _SOURCES.get(name, BUILT_IN) for name in sorted(_KINDS)}


def get_kind(name: str) -> KindSpec:
    load_kinds()
    if name not in _KINDS:
        raise ConfigError(f"scene.kind: unknown kind {name!r} (known: {', '.join(sorted(_KINDS))})")
    return _KINDS[name]
