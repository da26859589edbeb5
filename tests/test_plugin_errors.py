"""Broken scene-kind plug-ins (named in $DIFFRAST_SCENE_KINDS or by an installed entry point)
fail every command on one line naming the plug-in, exit code 2; `diffrast info` lists the kinds."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from diffrast_cli.errors import ConfigError
from diffrast_cli.scene import registry

REPO = Path(__file__).resolve().parent.parent
MODULES = {
    "raising_kind.py": "raise RuntimeError('plug-in import failed\\nwith a second line')\n",
    "attrless_kind.py": "VALUE = 1\n",
    "exiting_kind.py": "import sys\nsys.exit(3)\n",
    "misnamed_kind.py": ("from diffrast_cli.scene.registry import KindSpec\n"
                         "from diffrast_cli.scene.soup import SoupConfig, TriangleSoup\n"
                         "SPEC = KindSpec(name='other', config=SoupConfig, factory=TriangleSoup)\n"),
}

# (DIFFRAST_SCENE_KINDS value, what the message says after naming it)
BROKEN = [
    ("no_such_module_xyz:SPEC", "cannot be loaded: ModuleNotFoundError: No module named 'no_such_module_xyz'"),
    ("attrless_kind:SPEC", "cannot be loaded: AttributeError: module 'attrless_kind' has no attribute 'SPEC'"),
    ("raising_kind:SPEC", "cannot be loaded: RuntimeError: plug-in import failed with a second line"),
    ("exiting_kind:SPEC", "cannot be loaded: SystemExit: 3"),
    ("attrless_kind:VALUE", "names neither a KindSpec nor a function returning one"),
    ("misnamed_kind:SPEC", "scene kind 'other': its config model needs kind: Literal['other']"),
]


@pytest.fixture
def plugins(tmp_path):
    """A folder of broken plug-in modules, and an env putting it on the path."""
    folder = tmp_path / "plugins"
    folder.mkdir()
    for name, text in MODULES.items():
        (folder / name).write_text(text)

    def env(kinds: str | None = None) -> dict:
        path = [str(folder), str(REPO), os.environ.get("PYTHONPATH")]     # this checkout's diffrast_cli
        out = {"PYTHONPATH": os.pathsep.join(filter(None, path))}
        if kinds is not None:
            out[registry.ENV_VAR] = kinds
        return out

    env.folder = folder
    return env


def _one_line_exit_2(code, out, err) -> str:
    assert code == 2, (out, err)
    assert out == "" and "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize("value, says", BROKEN, ids=[v for v, _ in BROKEN])
def test_broken_plugin_in_the_environment_is_one_line_naming_it(run_cli, plugins, job_file, value, says):
    line = _one_line_exit_2(*run_cli("validate", job_file, env=plugins(value)))
    assert line == f"diffrast: config error: scene kind plug-in '{value}' (from ${registry.ENV_VAR}): {says}"


@pytest.mark.parametrize("command", [["info"], ["info", "--list"], ["validate", "JOB"], ["optimize", "JOB", "-q"],
                                     ["bench", "--problem", "soup-2k-256", "--iterations", "1"]],
                         ids=lambda c: " ".join(c))
def test_every_command_fails_alike_and_writes_nothing(run_cli, plugins, job_file, tmp_path, command):
    args = [str(job_file) if a == "JOB" else a for a in command]
    line = _one_line_exit_2(*run_cli(*args, cwd=tmp_path, env=plugins("good_kind_missing:SPEC, raising_kind:SPEC")))
    assert line.startswith("diffrast: config error: scene kind plug-in 'good_kind_missing:SPEC'")
    assert not (tmp_path / "runs").exists()


def test_broken_installed_entry_point_is_one_line_naming_it_and_its_package(run_cli, plugins, job_file):
    info = plugins.folder / "broken_kinds-1.2.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-kinds\nVersion: 1.2\n")
    (info / "entry_points.txt").write_text(f"[{registry.ENTRY_POINT_GROUP}]\nbroken = raising_kind:SPEC\n")
    line = _one_line_exit_2(*run_cli("validate", job_file, env=plugins()))
    assert line == ("diffrast: config error: scene kind plug-in 'raising_kind:SPEC' (from entry point 'broken' "
                    "of broken-kinds 1.2 (group diffrast.scene_kinds)): cannot be loaded: RuntimeError: "
                    "plug-in import failed with a second line")


def test_info_lists_the_registered_kinds_and_where_they_came_from(run_cli):
    code, out, err = run_cli("info", "--list", env={registry.ENV_VAR: "tests.kinds.quads:SPEC"})
    assert code == 0, err
    listing = out[out.index("scene kinds:\n"):].splitlines()
    assert listing == ["scene kinds:",
                       "  mesh: diffrast_cli.scene.mesh.kind.TexturedMesh (built in)",
                       "  quads: tests.kinds.quads.Quads ($DIFFRAST_SCENE_KINDS)",
                       "  soft: diffrast_cli.scene.soft.kind.SoftRasterizer (built in)",
                       "  soft_mesh: diffrast_cli.scene.soft.mesh_kind.SoftMesh (built in)",
                       "  soup: diffrast_cli.scene.soup.kind.TriangleSoup (built in)",
                       "  splats: diffrast_cli.scene.splats.kind.GaussianSplats (built in)",
                       "  subdiv: diffrast_cli.scene.subdiv.kind.SubdivSurface (built in)",
                       "  volume: diffrast_cli.scene.volume.kind.VoxelVolume (built in)"]


def test_a_failed_load_fails_again_rather_than_leaving_kinds_out(monkeypatch, plugins):
    monkeypatch.syspath_prepend(str(plugins.folder))
    monkeypatch.setattr(registry, "_loaded", False)
    monkeypatch.setenv(registry.ENV_VAR, "raising_kind:SPEC")
    for _ in range(2):
        with pytest.raises(ConfigError, match="raising_kind:SPEC"):
            registry.kinds()
    monkeypatch.delenv(registry.ENV_VAR)
    assert set(registry.kind_sources()) >= {"mesh", "soup"}
    assert registry.kind_sources()["soup"] == registry.BUILT_IN
