"""Shader loading: files under glsl/, ``#include``, injected defines and ``#line``.

Every shader file starts with ``#version 430``. The loader inserts, right after
it, the extension lines and ``#define``s (binding points and work-group sizes
from :mod:`bindings`, plus per-program ones), then expands ``#include "x.glsl"``
and ``#include <alias>`` (resolved through an alias map, so a generic pass can
include a scene kind's code). A file name is looked up in the extra folders
``dirs`` first (a scene kind's shader folder, which may live anywhere), then
in glsl/include/ (quoted includes only) and glsl/. ``#line L S`` directives
keep line numbers, and compile errors are rewritten to name ``file:line``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..errors import GLError
from . import bindings

_INCLUDE = re.compile(r'^\s*#\s*include\s+(?:"([^"]+)"|<([^>]+)>)\s*$')
# Mesa: "0:12(5): error: ..."; NVIDIA: "0(12) : error C1008: ..."
_ERR_MESA = re.compile(r"(\d+):(\d+)\((\d+)\)")
_ERR_NV = re.compile(r"(\d+)\((\d+)\)")


def glsl_dir() -> Path:
    """Where the shaders are: $DIFFRAST_GLSL_DIR (development), inside the installed
    package, or glsl/ of a source checkout."""
    override = os.environ.get("DIFFRAST_GLSL_DIR")
    if override:
        if not Path(override).is_dir():
            raise GLError(f"DIFFRAST_GLSL_DIR={override}: no such shader folder")
        return Path(override)
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "glsl", here.parent / "glsl"):
        if (candidate / "include").is_dir():
            return candidate
    raise GLError(f"shader folder glsl/ not found next to {here}; reinstall diffrast")


def _read(path: str) -> str:
    # Not cached: with DIFFRAST_GLSL_DIR a shader edited in place is read again.
    try:
        return Path(path).read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise GLError(f"{path}: cannot read shader ({getattr(exc, 'strerror', None) or exc})") from None


class ShaderSource:
    """One preprocessed shader stage: its text and the file table for error messages."""

    def __init__(self, name: str, defines: dict | None = None, aliases: dict | None = None,
                 extensions: tuple = (), dirs: tuple = ()):
        self.files: list[str] = []
        self.aliases = aliases or {}
        root = glsl_dir()
        self.root = root
        self.dirs = tuple(Path(d) for d in dirs)
        name, path = self._locate(name, quoted=False, current=name)
        self.name = name
        self._paths = {name: path}
        lines = _read(str(path)).splitlines()
        if not lines or not lines[0].startswith("#version"):
            raise GLError(f"{name}:1: shader must start with #version")
        head = [lines[0]]
        for ext in extensions:
            head.append(f"#extension {ext} : require")
        all_defines = bindings.defines()
        all_defines.update({k: str(v) for k, v in (defines or {}).items()})
        for key, value in all_defines.items():
            head.append(f"#define {key} {value}")
        body = self._expand(name, lines[1:], first_line=2, stack=(name,))
        self.text = "\n".join(head + body) + "\n"

    def _file_index(self, name: str) -> int:
        if name not in self.files:
            self.files.append(name)
        return self.files.index(name)

    def _locate(self, name: str, quoted: bool, current: str) -> tuple[str, Path]:
        """(the name messages use, the file) of a shader name: the extra folders first,
        then glsl/include/ (quoted includes) and glsl/."""
        candidates = [d / name for d in self.dirs]
        if quoted:
            candidates.append(self.root / "include" / name)
        candidates.append(self.root / name)
        for path in candidates:
            if path.is_file():
                try:
                    return path.relative_to(self.root).as_posix(), path
                except ValueError:
                    return str(path), path
        if not quoted:
            return name, self.root / name          # _read names the missing file
        where = ", ".join(str(d) for d in (*self.dirs, self.root))
        raise GLError(f"{current}: #include \"{name}\" not found under {where}")

    def _resolve(self, quoted: str | None, alias: str | None, current: str) -> str:
        if alias is not None:
            if alias not in self.aliases:
                raise GLError(f"{current}: #include <{alias}> has no binding (known: {sorted(self.aliases)})")
            name, path = self._locate(self.aliases[alias], quoted=True, current=current)
        else:
            name, path = self._locate(quoted, quoted=True, current=current)
        self._paths[name] = path
        return name

    def _expand(self, name: str, lines: list[str], first_line: int, stack: tuple) -> list[str]:
        index = self._file_index(name)
        out = [f"#line {first_line} {index}"]
        for offset, line in enumerate(lines):
            m = _INCLUDE.match(line)
            if not m:
                out.append(line)
                continue
            target = self._resolve(m.group(1), m.group(2), name)
            if target in stack:
                raise GLError(f"{name}:{first_line + offset}: recursive #include of {target}")
            sub = _read(str(self._paths[target])).splitlines()
            out.extend(self._expand(target, sub, 1, stack + (target,)))
            out.append(f"#line {first_line + offset + 1} {index}")
        return out

    def explain(self, log: str) -> str:
        """Rewrite a driver's compile log so that locations read file:line."""
        def mesa(m):
            i, line = int(m.group(1)), int(m.group(2))
            return f"{self._name_of(i)}:{line}" if i < len(self.files) else m.group(0)

        def nv(m):
            i, line = int(m.group(1)), int(m.group(2))
            return f"{self._name_of(i)}:{line}" if i < len(self.files) else m.group(0)

        text = _ERR_MESA.sub(mesa, log)
        if text == log:
            text = _ERR_NV.sub(nv, log)
        return text

    def _name_of(self, index: int) -> str:
        return self.files[index]


def _first_error(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for ln in lines:
        if "error" in ln.lower() and ":" in ln:
            return ln
    return lines[0] if lines else "unknown error"


def _build(ctx, sources: dict[str, ShaderSource], make):
    try:
        return make()
    except Exception as exc:
        log = str(exc)
        named = [stage for stage in sources if f"{stage}_shader" in log]
        if len(named) == 1:
            sources = {named[0]: sources[named[0]]}
        for stage, src in sources.items():
            explained = src.explain(log)
            if explained != log:
                raise GLError(f"shader {src.name} ({stage}) does not compile: {_first_error(explained)}")
        names = ", ".join(s.name for s in sources.values())
        raise GLError(f"shaders {names} do not build: {_first_error(log)}")


def compute(ctx, name: str, defines: dict | None = None, aliases: dict | None = None,
            extensions: tuple = (), dirs: tuple = ()):
    """Build a compute program from glsl/<name> (or ``dirs``/<name>)."""
    src = ShaderSource(name, defines, aliases, extensions, dirs)
    return _build(ctx, {"compute": src}, lambda: ctx.compute_shader(src.text))


def program(ctx, vertex: str, fragment: str, defines: dict | None = None,
            aliases: dict | None = None, extensions: tuple = (), dirs: tuple = ()):
    """Build a vertex + fragment program from glsl/<vertex> and glsl/<fragment> (or ``dirs``)."""
    vs = ShaderSource(vertex, defines, aliases, extensions, dirs)
    fs = ShaderSource(fragment, defines, aliases, extensions, dirs)
    return _build(ctx, {"vertex": vs, "fragment": fs},
                  lambda: ctx.program(vertex_shader=vs.text, fragment_shader=fs.text))
