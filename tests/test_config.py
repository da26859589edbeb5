"""Unit tests of diffrast_cli.config: load_job, apply_override, schema validation."""

from __future__ import annotations

import os
import typing
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from diffrast_cli import config as C
from diffrast_cli import jobfile as J
from diffrast_cli.errors import ConfigError
from tests.conftest import REPO, TINY_JOB


def _write(tmp_path, text, name="job.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text) if isinstance(text, str) else p.write_bytes(text)
    return p


def _err(path, overrides=()) -> str:
    with pytest.raises(ConfigError) as info:
        J.load_job(path, overrides)
    msg = str(info.value)
    assert "\n" not in msg and msg.strip() == msg and msg
    return msg


def _sections(model=C.JobConfig, prefix=()):
    """Every section (sub-model) of the schema as a dotted path; () is the top level."""
    yield prefix
    for name, field in model.model_fields.items():
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            yield from _sections(ann, prefix + (name,))


def _nested(path: tuple, leaf: dict) -> dict:
    data = {"target": {"image": "t.png"}}
    node = data
    for p in path:
        node = node.setdefault(p, {})
    node.update(leaf)
    return data


# ---------------------------------------------------------------- loading
def test_quickstart_loads_and_image_path_is_absolute():
    job, base = J.load_job(REPO / "configs" / "quickstart.yaml")
    assert job.name == "quickstart" and base == (REPO / "configs").resolve()
    assert Path(job.target.image).is_absolute() and Path(job.target.image).is_file()


def test_tiny_job_defaults(tmp_path):
    job, _ = J.load_job(_write(tmp_path, TINY_JOB))
    assert job.scene.triangles == 50 and job.render.resolution == 32
    assert job.optimize.estimator == "per_pixel" and job.render.camera.fov_y == 45.0
    assert job.target.image == str((tmp_path / "target.png").resolve())


def test_dump_job_round_trips(tmp_path):
    job, _ = J.load_job(_write(tmp_path, TINY_JOB), ["render.resolution=[40,30]", "seed=9"])
    again, _ = J.load_job(_write(tmp_path, J.dump_job(job), "again.yaml"))
    assert again == job and again.render.resolution == (40, 30)


def test_yaml_1_1_float_strings_and_anchors_still_work(tmp_path):
    job, _ = J.load_job(_write(tmp_path, TINY_JOB.replace("optimize:\n", "optimize:\n  adam: {eps: 1e-8}\n")))
    assert job.optimize.adam.eps == 1e-8
    job, _ = J.load_job(_write(tmp_path, TINY_JOB.replace("scene:\n", "scene:\n  positions: &g {lr: 0.001}\n"
                                                          "  colors: *g\n")))
    assert job.scene.colors.lr == job.scene.positions.lr == 0.001


# ---------------------------------------------------------------- file-level errors
def test_missing_file(tmp_path):
    msg = _err(tmp_path / "nope.yaml")
    assert "nope.yaml" in msg and "not found" in msg


def test_directory_is_not_a_job_file(tmp_path):
    assert "not a file" in _err(tmp_path)


def test_unreadable_file(tmp_path, monkeypatch):
    p = _write(tmp_path, TINY_JOB)

    def denied(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_text", denied)
    assert _err(p) == f"{p}: cannot read job file (Permission denied)"


def test_fifo_is_not_a_job_file(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    os.mkfifo(tmp_path / "pipe.yaml")
    assert "not a file" in _err(tmp_path / "pipe.yaml")


def test_invalid_yaml_names_file_and_line(tmp_path):
    p = _write(tmp_path, "name: x\ntarget:\n  image: [unclosed\nseed: 1\n")
    msg = _err(p)
    assert msg.startswith(f"{p}:") and "invalid YAML" in msg
    assert msg.startswith((f"{p}:3:", f"{p}:4:")), msg


def test_tab_indentation_is_invalid_yaml(tmp_path):
    p = _write(tmp_path, "target:\n\timage: x.png\n")
    assert _err(p) == f"{p}:2: invalid YAML (found character '\\t' that cannot start any token)"


@pytest.mark.parametrize("text,kind", [("- a\n- b\n", "list"), ("just a string\n", "str"), ("42\n", "int")])
def test_top_level_must_be_a_mapping(tmp_path, text, kind):
    msg = _err(_write(tmp_path, text))
    assert "job.yaml" in msg and "mapping" in msg and kind in msg


@pytest.mark.parametrize("text", ["", "   \n\n", "# only a comment\n", "~\n", "null\n"])
def test_empty_file_is_refused(tmp_path, text):
    msg = _err(_write(tmp_path, text))
    assert "job.yaml" in msg and ("empty" in msg or "no keys" in msg)


def test_empty_mapping_needs_target(tmp_path):
    msg = _err(_write(tmp_path, "{}\n"))
    assert "job.yaml: target: required key is missing" in msg


def test_file_over_1_mib_is_refused_before_parsing(tmp_path):
    p = _write(tmp_path, TINY_JOB + "#" * J.MAX_CONFIG_BYTES + "\n")
    msg = _err(p)
    assert "job.yaml" in msg and str(J.MAX_CONFIG_BYTES) in msg


def test_not_utf8(tmp_path):
    msg = _err(_write(tmp_path, b"name: \xff\xfe\x00bad\n"))
    assert "job.yaml" in msg and "UTF-8" in msg


def test_utf8_bom_is_fine(tmp_path):
    job, _ = J.load_job(_write(tmp_path, "\ufeff" + TINY_JOB, "bom.yaml"))
    assert job.name == "tiny"


def test_several_documents_are_refused(tmp_path):
    p = _write(tmp_path, TINY_JOB + "---\nname: other\n")
    assert _err(p) == f"{p}:14: invalid YAML (but found another document)"


def test_python_tags_are_refused(tmp_path):
    p = _write(tmp_path, TINY_JOB + "extra: !!python/object/apply:os.system ['echo hi']\n")
    assert _err(p) == (f"{p}:14: invalid YAML (could not determine a constructor for the tag "
                       f"'tag:yaml.org,2002:python/object/apply:os.system')")


BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{n}: &{n} [{', '.join(['*' + p] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi"))


def test_billion_laughs_is_refused_without_expanding_it(tmp_path, monkeypatch):
    """9^9 (387M) values once expanded: the node count is memoised per anchor, so the check
    visits each of the ~100 written nodes about once, and nothing is built."""
    visits = []
    count_nodes = J._expanded_nodes

    def counted(node, memo, active):
        visits.append(node)
        return count_nodes(node, memo, active)

    def never(*args, **kwargs):
        raise AssertionError("the bomb was constructed")

    monkeypatch.setattr(J, "_expanded_nodes", counted)        # the recursion goes through the module name
    monkeypatch.setattr(J._Loader, "construct_document", never)
    p = _write(tmp_path, TINY_JOB + BOMB.replace("a:", "bomb_a:", 1))
    msg = _err(p)
    assert msg == f"{p}: more than {J.MAX_YAML_NODES} values once YAML aliases are expanded"
    assert 80 < len(visits) < 1000, len(visits)


def test_alias_bomb_under_a_real_key_is_refused(tmp_path):
    bomb = "render:\n  background: &z [" + ", ".join(["*i"] * 9) + "]\n"
    msg = _err(_write(tmp_path, BOMB + bomb))
    assert "aliases" in msg


def test_recursive_alias_is_refused(tmp_path):
    msg = _err(_write(tmp_path, TINY_JOB + "loop: &l {again: *l}\n"))
    assert "job.yaml" in msg and "recursive" in msg


def test_deep_nesting_is_refused(tmp_path):
    msg = _err(_write(tmp_path, TINY_JOB + "deep: " + "[" * 5000 + "]" * 5000 + "\n"))
    assert "job.yaml" in msg and "deep" in msg


# ---------------------------------------------------------------- schema errors
@pytest.mark.parametrize("section", list(_sections()), ids=lambda s: ".".join(s) or "top")
def test_unknown_key_at_any_depth_names_the_dotted_key(tmp_path, section):
    key = ".".join(section + ("bogus_key",))
    p = _write(tmp_path, yaml.safe_dump(_nested(section, {"bogus_key": 1})))
    msg = _err(p)
    assert msg.startswith(f"{p}: {key}: unknown key"), msg


def test_unknown_key_suggests_the_close_one(tmp_path):
    msg = _err(_write(tmp_path, TINY_JOB.replace("iterations:", "iteration:")))
    assert "optimize.iteration: unknown key" in msg and "'iterations'" in msg


@pytest.mark.parametrize("section,leaf,key,needle", [
    ((), {"seed": "five"}, "seed", "integer"),
    ((), {"seed": True}, "seed", "integer"),
    ((), {"seed": 2.5}, "seed", "integer"),
    ((), {"seed": -1}, "seed", "greater than or equal"),
    ((), {"name": "has space"}, "name", "pattern"),
    (("optimize",), {"iterations": "many"}, "optimize.iterations", "integer"),
    (("optimize",), {"iterations": 0}, "optimize.iterations", "greater than or equal to 1"),
    (("optimize",), {"samples": 0}, "optimize.samples", "greater than or equal to 1"),
    (("optimize",), {"samples": 100000}, "optimize.samples", "less than or equal"),
    (("optimize",), {"estimator": "magic"}, "optimize.estimator", "per_pixel"),
    (("optimize",), {"lr_final": float("nan")}, "optimize.lr_final", "finite"),
    (("optimize", "adam"), {"beta1": 1.0}, "optimize.adam.beta1", "less than 1"),
    (("scene",), {"triangles": 0}, "scene.triangles", "greater than or equal to 1"),
    (("scene",), {"triangles": 10**12}, "scene.triangles", "less than or equal"),
    (("scene", "positions"), {"bounds": [2, 1]}, "scene.positions.bounds", "low < high"),
    (("scene", "positions"), {"optimize": "maybe"}, "scene.positions.optimize", "boolean"),
    (("render",), {"resolution": 0}, "render.resolution", "positive"),
    (("render",), {"resolution": -3}, "render.resolution", "positive"),
    (("render",), {"resolution": [64, 0]}, "render.resolution", "positive"),
    (("render",), {"resolution": [64, 48, 2]}, "render.resolution", "[width, height]"),
    (("render",), {"resolution": "big"}, "render.resolution", "[width, height]"),
    (("render",), {"resolution": True}, "render.resolution", "[width, height]"),
    (("render",), {"resolution": 1.5}, "render.resolution", "[width, height]"),
    (("render",), {"resolution": 100000}, "render.resolution", str(C.MAX_RESOLUTION)),
    (("render",), {"resolution": [64, 40000]}, "render.resolution", str(C.MAX_RESOLUTION)),
    (("render",), {"supersample": 5}, "render.supersample", "less than or equal"),
    (("render",), {"background": [1, "a", 0]}, "render.background.1", "number"),
    (("render",), {"background": [1, 0]}, "render.background", "too few values"),
    (("render",), {"background": [1, 0, 0, 1]}, "render.background", "at most 3 items"),
    (("render",), {"projection": "fisheye"}, "render.projection", "orthographic"),
    (("render", "camera"), {"near": 5.0, "far": 1.0}, "render.camera", "far must be greater than near"),
    ((), {"target": "x.png"}, "target", "mapping"),
    ((), {"render": 5}, "render", "mapping"),
])
def test_schema_errors_name_file_and_dotted_key(tmp_path, section, leaf, key, needle):
    p = _write(tmp_path, yaml.safe_dump(_nested(section, leaf)))
    msg = _err(p)
    assert msg.startswith(f"{p}: {key}: "), msg
    assert needle in msg, msg


def test_missing_target_image(tmp_path):
    msg = _err(_write(tmp_path, "target: {}\n"))
    assert msg.endswith("job.yaml: target: give exactly one of image, images, transforms or reference")


def test_non_string_keys(tmp_path):
    assert "keys must be strings" in _err(_write(tmp_path, TINY_JOB + "1: 2\n"))


def test_several_problems_are_counted_on_one_line(tmp_path):
    msg = _err(_write(tmp_path, TINY_JOB + "bogus: 1\nother: 2\n"))
    assert "bogus: unknown key" in msg and "(and 1 more problem)" in msg


def test_huge_values_are_shown_short(tmp_path):
    msg = _err(_write(tmp_path, TINY_JOB.replace("resolution: 32", "resolution: " + "x" * 5000)))
    assert len(msg) < 400 and "job.yaml: render.resolution: must be an integer" in msg and "xxx...xxx" in msg


# ---------------------------------------------------------------- values checked beyond their type
LR_SCHEDULES = typing.get_args(C.OptimizeConfig.model_fields["lr_schedule"].annotation)


@pytest.mark.parametrize("value", ["linear", "Cosine", "", "[cosine]", "1", "null"])
def test_unknown_lr_schedule_names_the_key(job_file, value):
    expected = "'constant', 'cosine' or 'step'"
    msg = _err(job_file, [f"optimize.lr_schedule={value}"])
    assert msg.startswith("--set optimize.lr_schedule: Input should be " + expected), msg
    job_file.write_text(TINY_JOB.replace("iterations: 3", f"iterations: 3\n  lr_schedule: {value or repr('')}"))
    msg = _err(job_file)
    assert msg.startswith(f"{job_file}: optimize.lr_schedule: Input should be {expected}"), msg


def test_every_lr_schedule_of_the_schema_is_implemented(job_file):
    from diffrast_cli.optim.schedule import lr_factor

    assert set(LR_SCHEDULES) == {"constant", "cosine", "step"}
    for kind in LR_SCHEDULES:
        job, _ = J.load_job(job_file, [f"optimize.lr_schedule={kind}", "optimize.lr_final=0.25"])
        assert job.optimize.lr_schedule == kind
        factors = [lr_factor(kind, i, 101, 0.25) for i in range(101)]
        assert factors[0] == 1.0 and all(0.25 <= f <= 1.0 for f in factors)
        assert factors[-1] == (1.0 if kind == "constant" else pytest.approx(0.25))


@pytest.mark.parametrize("name", [".", ".."])
def test_job_name_cannot_be_a_dot_folder(tmp_path, name):
    """The output folder is runs/<name>: runs/.. would write every output into the working directory."""
    p = _write(tmp_path, TINY_JOB.replace("name: tiny", f"name: '{name}'"))
    assert _err(p) == f"{p}: name: '{name}' cannot name the output folder runs/<name>"
    assert J.load_job(p, ["name=..a"])[0].name == "..a"


@pytest.mark.parametrize("target, cameras, needle", [
    ("{image: t.png}", "{near: 5, far: 1}", "cameras: far must be greater than near (near 5.0, far 1.0)"),
    ("{image: t.png}", "{near: 2, far: 2}", "cameras: far must be greater than near (near 2.0, far 2.0)"),
    ("{reference: {mesh: r.glb}}", "{orbit: {count: 3}, near: 200}",
     "cameras: far must be greater than near (near 200.0, far 100.0)"),
    ("{images: [a.png, b.png]}", "{orbit: {count: 2}, holdout: 2}",
     "cameras.holdout: 2 held out of 2 orbit cameras leaves none to train on"),
])
def test_cameras_are_checked_when_the_job_is_loaded(tmp_path, target, cameras, needle):
    """Caught by the loader (and so by `diffrast validate`), not only once the cameras are built."""
    p = _write(tmp_path, f"target: {target}\ncameras: {cameras}\nscene: {{kind: mesh, icosphere: {{}}}}\n")
    assert _err(p) == f"{p}: {needle}"


# ---------------------------------------------------------------- --set overrides
def test_overrides_of_the_documented_keys(job_file, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sets = ["seed=7", "target.image=other.png", "scene.triangles=123", "render.resolution=[64,48]",
            "optimize.iterations=11", "optimize.estimator=full_image", "optimize.samples=4"]
    job, _ = J.load_job(job_file, sets)
    assert job.seed == 7 and job.scene.triangles == 123 and job.render.resolution == (64, 48)
    assert job.optimize.iterations == 11 and job.optimize.estimator == "full_image" and job.optimize.samples == 4
    # a path given with --set is relative to the working directory
    assert job.target.image == str((tmp_path / "other.png").resolve())
    job, _ = J.load_job(job_file, ["render.resolution=64"])
    assert job.render.resolution == 64


def test_override_creates_missing_sections_and_later_wins(job_file):
    job, _ = J.load_job(job_file, ["render.camera.fov_y=30", "optimize.adam.beta1=0.5", "seed=1", "seed=2"])
    assert job.render.camera.fov_y == 30 and job.optimize.adam.beta1 == 0.5 and job.seed == 2


def test_override_of_a_string_key_keeps_the_text(job_file):
    job, _ = J.load_job(job_file, ["name=007"])
    assert job.name == "007"


def test_override_whole_section(job_file):
    job, _ = J.load_job(job_file, ["render.camera={fov_y: 20, near: 0.5}"])
    assert job.render.camera.fov_y == 20 and job.render.camera.near == 0.5


@pytest.mark.parametrize("assignment,needles", [
    ("seed", ["--set seed:", "KEY=VALUE"]),
    ("=5", ["--set", "dotted key"]),
    ("optimize..samples=2", ["--set", "dotted key"]),
    ("optimize.bogus=1", ["--set optimize.bogus: unknown key"]),
    ("bogus=1", ["--set bogus: unknown key"]),
    ("optimize.sample=2", ["--set optimize.sample: unknown key", "'samples'"]),
    ("seed.x=1", ["--set seed.x:", "seed is a value"]),
    ("render.resolution.w=64", ["--set render.resolution.w:", "render.resolution is a value"]),
    ("seed=abc", ["--set seed:", "integer", "'abc'"]),
    ("seed=1.5", ["--set seed:", "integer"]),
    ("optimize.iterations=[1,2]", ["--set optimize.iterations:", "integer"]),
    ("optimize.estimator=magic", ["--set optimize.estimator:", "per_pixel"]),
    ("optimize.samples=0", ["--set optimize.samples:", "greater than or equal to 1"]),
    ("render.resolution=0", ["--set render.resolution:", "positive"]),
    ("render.resolution=[64,-1]", ["--set render.resolution:", "positive"]),
    ("render.resolution=64x48", ["--set render.resolution:", "[width, height]"]),
    ("render.resolution=100000", ["--set render.resolution:", str(C.MAX_RESOLUTION)]),
    ("scene.triangles=0", ["--set scene.triangles:", "greater than or equal to 1"]),
    ("render.background=&a [*a]", ["--set render.background:", "recursive"]),
])
def test_bad_overrides_name_the_key(job_file, assignment, needles):
    msg = _err(job_file, [assignment])
    for n in needles:
        assert n in msg, msg


def test_override_under_a_scalar_in_the_file(tmp_path):
    p = _write(tmp_path, TINY_JOB + "extra_section: 3\n")
    data = J._read_yaml(p)
    J.apply_override(data, "render.camera.fov_y=10")
    assert data["render"]["camera"] == {"fov_y": 10}
    data["render"] = 5
    with pytest.raises(ConfigError, match=r"--set render.resolution: render is not a mapping"):
        J.apply_override(data, "render.resolution=3")


def test_override_alias_bomb_is_refused(job_file):
    levels = ["&a [1,1,1,1,1,1,1,1,1,1]"] + [f"&{n} [{','.join(['*' + p] * 10)}]" for p, n in zip("abcde", "bcdef")]
    msg = _err(job_file, ["render.background=[" + ", ".join(levels) + "]"])
    assert "--set render.background:" in msg and "aliases" in msg


def test_wrong_type_from_file_is_not_blamed_on_set(job_file):
    job_file.write_text(TINY_JOB.replace("seed: 0", "seed: x"))
    msg = _err(job_file, ["optimize.samples=2"])
    assert msg.startswith(f"{job_file}: seed:")


def test_apply_override_returns_the_key():
    data = {}
    assert J.apply_override(data, " optimize.samples = 3") == "optimize.samples"
    assert data == {"optimize": {"samples": 3}}
