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
(development, tests). Both paths go through :func:`load_entry_point`.
"""

from __future__ import annotations

import importlib.metadata
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import ConfigError

ENTRY_POINT_GROUP = "diffrast.scene_kinds"
ENV_VAR = "DIFFRAST_SCENE_KINDS"
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
_LISTENERS: list[Callable[[], None]] = []
_loaded = False


def register_kind(spec: KindSpec) -> KindSpec:
    """Add (or replace) a kind; the job schema is rebuilt to include it."""
    if not spec.name.isidentifier():
        raise ValueError(f"scene kind name {spec.name!r} must be an identifier")
    field = getattr(spec.config, "model_fields", {}).get("kind")
    if field is None or getattr(field.annotation, "__args__", None) != (spec.name,):
        raise ValueError(f"scene kind {spec.name!r}: its config model needs kind: Literal[{spec.name!r}]")
    _KINDS[spec.name] = spec
    for listener in _LISTENERS:
        listener()
    return spec


def unregister_kind(name: str) -> None:
    """Remove a kind (tests); the schema is rebuilt without it."""
    if _KINDS.pop(name, None) is not None:
        for listener in _LISTENERS:
            listener()


def on_change(listener: Callable[[], None]) -> None:
    _LISTENERS.append(listener)


def load_entry_point(entry_point) -> KindSpec:
    """Register the kind an entry point (importlib.metadata.EntryPoint) names."""
    try:
        obj = entry_point.load()
    except Exception as exc:
        raise ConfigError(f"scene kind plug-in {entry_point.value}: cannot be loaded ({exc})") from None
    spec = obj if isinstance(obj, KindSpec) else obj() if callable(obj) else None
    if not isinstance(spec, KindSpec):
        raise ConfigError(f"scene kind plug-in {entry_point.value}: names neither a KindSpec nor a function "
                          f"returning one")
    return register_kind(spec)


def _env_entry_points() -> list:
    values = [v.strip() for v in os.environ.get(ENV_VAR, "").split(",") if v.strip()]
    return [importlib.metadata.EntryPoint(name=v, value=v, group=ENTRY_POINT_GROUP) for v in values]


def load_kinds() -> None:
    """The shipped kinds, the installed plug-ins and those of $DIFFRAST_SCENE_KINDS (once)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    from . import mesh, soup  # noqa: F401  (they register themselves)
    for ep in list(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)) + _env_entry_points():
        load_entry_point(ep)


def kinds() -> dict[str, KindSpec]:
    load_kinds()
    return dict(_KINDS)


def get_kind(name: str) -> KindSpec:
    load_kinds()
    if name not in _KINDS:
        raise ConfigError(f"scene.kind: unknown kind {name!r} (known: {', '.join(sorted(_KINDS))})")
    return _KINDS[name]
