"""What `pip install .` ships: every Python package and every shader of the source tree.

The tests run from the source tree, where a package missing from pyproject.toml still
imports; an installed copy would not have it (`diffrast optimize` failed that way once)."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETUPTOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_python_package_is_listed():
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "diffrast_cli").rglob("__init__.py")}
    missing = sorted(found - set(SETUPTOOLS["packages"]))
    assert not missing, f"pyproject.toml [tool.setuptools] packages lacks {missing}"


def test_every_shader_is_package_data():
    patterns = SETUPTOOLS["package-data"]["diffrast_cli.glsl"]
    glsl = ROOT / SETUPTOOLS["package-dir"]["diffrast_cli.glsl"]
    shaders = [p.relative_to(glsl).as_posix() for p in glsl.rglob("*") if p.suffix in (".vert", ".frag", ".comp", ".glsl")]
    assert shaders
    unshipped = [s for s in shaders if not any(fnmatch.fnmatchcase(s, pat) and s.count("/") == pat.count("/")
                                               for pat in patterns)]
    assert not unshipped, f"shaders not in package-data: {unshipped}"
