"""Hostile job files and --set overrides (issue "Reliability", item 6).

The rule: whatever the job file or a ``--set`` holds, ``load_job`` / ``validate_job`` /
``apply_override`` either return or raise ``ConfigError`` with ONE line naming the file
(or ``--set``) -- never ValidationError, ValueError, TypeError, RecursionError, ...
Through the CLI that is one stderr line, exit code 2, no traceback, no output folder.

Property tests (hypothesis) build arbitrary documents: keys of the real schema mixed with
junk, scalars of every kind (huge ints, nan/inf, bools, None, bytes, dates, odd strings)
and deep nesting; plus arbitrary ``--set`` strings and arbitrary raw text / bytes.  And the
other side: random but VALID jobs and overrides (every documented key) must be accepted with
exactly the values given -- a loader that refuses everything fails here.
"""

from __future__ import annotations

import contextlib
import os
import math
import string
import sys
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from diffrast_cli import config as C
from diffrast_cli import jobfile as J
from diffrast_cli.errors import ConfigError
from tests.conftest import TINY_JOB, write_target

# DIFFRAST_FUZZ_EXAMPLES=5000 for a long hunt; the default keeps the file well under 30 s.
SETTINGS = settings(max_examples=int(os.environ.get("DIFFRAST_FUZZ_EXAMPLES", 150)), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])

LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def check_message(exc: ConfigError, where: str | None = None, max_len: int = 2000) -> str:
    """The message is one non-empty line (short: values and keys are cut); it names ``where``
    (the file) or --set."""
    msg = str(exc)
    assert type(exc) is ConfigError
    assert msg and msg == msg.strip(), repr(msg)
    assert not any(c in msg for c in LINE_BREAKS) and len(msg.splitlines()) == 1, repr(msg)
    assert len(msg) < max_len, msg[:300]
    if where is not None:
        where = where.translate(J._LINE_BREAKS)             # a line break in a file name is shown escaped
        assert msg.startswith(where) or msg.startswith("--set "), msg[:300]
    return msg


def outcome(fn, *args, where=None):
    """fn(*args): a JobConfig-like result, or a checked ConfigError message. Anything else fails."""
    try:
        return fn(*args), None
    except ConfigError as exc:
        return None, check_message(exc, where)


# ------------------------------------------------------------------ the schema, as paths
def _schema_paths(model=C.JobConfig, prefix=()):
    for name, field in model.model_fields.items():
        path = prefix + (name,)
        yield ".".join(path)
        sub = J._section(field.annotation)
        if sub is not None:
            yield from _schema_paths(sub, path)


SCHEMA_PATHS = sorted(set(_schema_paths()))
SCHEMA_KEYS = sorted({p.rsplit(".", 1)[-1] for p in SCHEMA_PATHS})
# Values that mean something to some key of the schema (so that validation goes deep).
MEANINGFUL = ["soup", "mesh", "orthographic", "perspective", "per_pixel", "full_image", "l1", "l2",
              "auto", "float", "fixed", "constant", "cosine", "step", "lambert", "unlit", "smooth", "face",
              "uniform", "cotangent", "asset", "none", "back", "t.png", "x.obj", "job-1", "",
              "~nosuchuser_diffrast/x.png", "a\x00b", "../" * 40 + "x", "1e-8", "1e999", "-0", "0x10"]
# (built by map: hypothesis prints its strategies, and str() of an int over 4300 digits raises)
HUGE_INTS = st.sampled_from([(2, 31), (2, 32), (2, 63), (2, 64), (-2, 63), (10, 100), (10, 4299), (10, 4300),
                             (10, 5000), (-10, 5001)]).map(lambda be: be[0] ** be[1])

keys = st.one_of(
    st.sampled_from(SCHEMA_KEYS),
    st.text(max_size=12),
    st.text(alphabet=string.ascii_lowercase + "._-\n", max_size=12),
    st.integers(-3, 3), st.none(), st.booleans(), st.floats(allow_nan=False),
)

scalars = st.one_of(
    st.none(), st.booleans(),
    st.integers(),
    st.builds(lambda sign, bits, low: sign * ((1 << bits) + low), st.sampled_from([1, -1]),
              st.integers(0, 20_000), st.integers(0, 1 << 64)),
    HUGE_INTS,
    st.floats(),                                            # nan, inf, -0.0, subnormals, 1e308
    st.sampled_from([float("nan"), float("inf"), -float("inf"), 1e308, -1e308, 5e-324]),
    st.text(max_size=20),
    st.sampled_from(MEANINGFUL),
    st.binary(max_size=8),
    st.dates(),
)


def _deep(depth: int, kind: str):
    node = [] if kind == "list" else {}
    for _ in range(depth):
        node = [node] if kind == "list" else {"a": node}
    return node


deep_values = st.builds(_deep, st.integers(1, 3000), st.sampled_from(["list", "dict"]))

values = st.recursive(
    st.one_of(scalars, deep_values),
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(keys, children, max_size=5)),
    max_leaves=20,
)


def _set_path(doc: dict, dotted: str, value):
    node = doc
    parts = dotted.split(".")
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[parts[-1]] = value


BASES = [
    {"target": {"image": "t.png"}},
    {"name": "tiny", "target": {"image": "t.png"}, "render": {"resolution": 32}, "scene": {"triangles": 50}},
    {"target": {"images": ["a.png", "b.png"]}, "cameras": {"orbit": {"count": 2}},
     "scene": {"kind": "mesh", "icosphere": {"subdivisions": 1}}},
    {"target": {"reference": {"mesh": "r.glb"}}, "cameras": {"orbit": {"count": 4}, "holdout": 1},
     "scene": {"kind": "mesh", "mesh": "m.obj", "texture": {"resolution": [16, 8]}}},
    {"target": {"transforms": "transforms.json"}, "render": {"projection": "perspective"}},
]


@st.composite
def documents(draw):
    """Mostly schema-shaped: a valid base with a few keys (real or junk) set to arbitrary values;
    sometimes a wholly arbitrary value."""
    if draw(st.integers(0, 9)) == 0:
        return draw(values)
    import copy

    doc = copy.deepcopy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(0, 4))):
        path = draw(st.one_of(st.sampled_from(SCHEMA_PATHS), st.sampled_from(SCHEMA_PATHS).map(
            lambda p: p + "." + "bogus"), st.lists(keys.map(str), min_size=1, max_size=3).map(".".join)))
        _set_path(doc, path, draw(values))
    if draw(st.booleans()):                                  # a non-string key somewhere
        doc[draw(keys)] = draw(values)
    return doc


# ------------------------------------------------------------------ validate_job
@pytest.fixture
def repr_recursion_ignored():
    """pydantic-core formats the input of some errors with repr()/str(); for a list nested
    ~1000 deep that raises RecursionError, for an integer of over 4300 digits ValueError,
    inside the validator, which reports it through sys.unraisablehook (and pytest's own hook
    then fails formatting the same object). The validation result is still a one-line
    ConfigError (asserted by the test). Any other unraisable exception fails."""
    seen = []
    previous = sys.unraisablehook
    sys.unraisablehook = lambda u: seen.append((type(u.exc_value), str(u.exc_value)))
    try:
        yield
    finally:
        sys.unraisablehook = previous
    other = [s for s in seen if not (s[0] is RecursionError and "repr" in s[1]
                                      or s[0] is ValueError and "integer string conversion" in s[1])]
    assert not other, other


@SETTINGS
@given(documents())
@example({"target": {"image": "x"}, "a\nb\u2028c": 1})
@example({"target": {"image": "x"}, "k" * 100_000: 1})
@pytest.mark.usefixtures("repr_recursion_ignored")
def test_validate_job_returns_a_job_or_a_one_line_config_error(doc):
    job, msg = outcome(J.validate_job, doc, where="<job>")
    if job is not None:
        assert isinstance(job, C.JobConfig)
        # what optimize writes as job.yaml loads back to the same job
        again = J.validate_job(yaml.safe_load(J.dump_job(job)))
        assert again == job


DIGITS_5001 = "<an integer of about 5001 digits>"


@pytest.mark.parametrize("doc, needle", [
    ({"seed": 10**5000, "target": {"image": "x"}}, f"<job>: seed: Input should be less than or equal to 4294967295, "
                                                   f"got {DIGITS_5001}"),
    ({"render": {"resolution": 10**5000}, "target": {"image": "x"}},
     f"<job>: render.resolution: {DIGITS_5001} is larger than 32768"),
    ({"render": {"resolution": [10**5000, 2]}, "target": {"image": "x"}},
     f"<job>: render.resolution: {DIGITS_5001} is larger than 32768"),
    ({"render": {"background": [10**5000, 0, 0]}, "target": {"image": "x"}},
     f"<job>: render.background.0: Input should be a valid number, got {DIGITS_5001}"),
    ({"scene": {"kind": "mesh", "icosphere": {}, "texture": {"resolution": 10**5000}}, "target": {"image": "x"}},
     f"<job>: scene.texture.resolution: texture sides must be in [1, 16384], got {DIGITS_5001}"),
    ({"target": {"image": "x"}, "junk": _deep(50_000, "list")}, "<job>: junk: unknown key"),
    ({"target": {"image": _deep(50_000, "dict")}}, "<job>: target.image: Input should be a valid string, got {'a'"),
    ({"target": {"image": "x"}, "scene": _deep(50_000, "dict")}, "<job>: scene.a: unknown key"),
    ({"target": {"image": "x"}, "render": {"background": _deep(900, "list")}},
     "<job>: render.background.0: Input should be a valid number, got [[[...]]]"),
    (_deep(50_000, "dict"), "<job>: target: required key is missing (and 1 more problem)"),
], ids=["huge-seed", "huge-resolution", "huge-resolution-w", "huge-background", "huge-texels",
        "junk-list", "image-dict", "scene-dict", "background-900", "top-dict"])
def test_validate_job_huge_and_deep_values(doc, needle):
    job, msg = outcome(J.validate_job, doc, where="<job>")
    assert job is None and msg.startswith(needle), msg


def test_validate_job_cyclic_values():
    cyc: dict = {}
    cyc["a"] = cyc
    lst: list = []
    lst.append(lst)
    for doc, needle in [({"target": {"image": "x"}, "scene": cyc}, "<job>: scene.a: unknown key"),
                        ({"target": {"image": "x"}, "scene": {"init": cyc}}, "<job>: scene.init.a: unknown key"),
                        ({"target": {"images": lst}}, "<job>: target.images.0: Input should be a valid string"),
                        ({"target": {"image": "x"}, "render": {"background": lst}},
                         "<job>: render.background.0: Input should be a valid number")]:
        job, msg = outcome(J.validate_job, doc, where="<job>")
        assert job is None and msg.startswith(needle), msg


# ------------------------------------------------------------------ load_job (files)
@pytest.fixture(scope="module")
def folder():
    with tempfile.TemporaryDirectory() as d:
        write_target(Path(d) / "t.png")
        yield Path(d)


@contextlib.contextmanager
def _any_int_digits():
    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        yield
    finally:
        sys.set_int_max_str_digits(old)


def dump(doc) -> str:
    """YAML text of ``doc`` (any int size); flow or block style."""
    with _any_int_digits():
        return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=1 << 30)


def _dump_or_none(doc):
    try:
        return dump(doc)
    except (yaml.YAMLError, RecursionError):                # e.g. a 3000-deep list: written by hand below
        return None


@SETTINGS
@given(documents())
def test_load_job_of_any_document(folder, doc):
    text = _dump_or_none(doc)
    assume(text is not None)
    path = folder / "job.yaml"
    path.write_text(text, encoding="utf-8")
    outcome(J.load_job, path, where=str(path))


# Raw text: YAML punctuation, tags, anchors, control characters, huge numbers, dates.
YAML_BITS = ["target:", " image: t.png", "\n", "  ", "- ", ": ", "[", "]", "{", "}", ",", "&a ", "*a", "<<: ",
             "!!int ", "!!float ", "!!bool ", "!!timestamp ", "!!binary ", "!!set ", "!!omap ", "!!python/tuple ",
             "!foo ", "? ", "|", ">", "'", '"', "#", "---", "...", "%YAML 1.1\n", "\t", "\x00", "\x85", "\u2028",
             "\ufeff", "\ud7ff", "2001-13-45", "1:59:59", "0x" + "f" * 4000, "9" * 4400, "1_0" * 2200, ".nan",
             ".inf", "-.inf", "1e999", "1.0e999", "~", "null", "yes", "No", "seed", "render", "resolution",
             "optimize.iterations", "\\0", "\\x00", "\\u2028", "\\N"]


@SETTINGS
@given(st.lists(st.one_of(st.sampled_from(YAML_BITS), st.text(max_size=5)), max_size=40).map("".join))
@example("target: {image: t.png}\nseed: 2001-13-45\n")
@example("target: {image: t.png}\nseed: !!int abc\n")
@example("target: {image: t.png}\nseed: !!bool maybe\n")
@example("target: {image: t.png}\nseed: !!timestamp abc\n")
@example("target: {image: t.png}\nseed: 0b" + "1" * 20000 + "\n")
@example("target: {image: t.png}\nseed: " + "9" * 5000 + "\n")
@example('target: {image: "a\\0b"}\n')
@example('target: {image: "~nosuchuser_diffrast/x.png"}\n')
@example("target: {image: t.png}\nx: \x00\n")
def test_load_job_of_any_text(folder, text):
    path = folder / "job.yaml"
    try:
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
    except UnicodeEncodeError:
        return
    outcome(J.load_job, path, where=str(path))


@SETTINGS
@given(st.binary(max_size=200))
@example(b"\xff\xfe" + "target: {image: t.png}".encode("utf-16-le"))
@example(b"target: {image: t.png}\nname: \xc3\x28\n")
@example(b"\xef\xbb\xbf\xef\xbb\xbftarget: {image: t.png}\n")
def test_load_job_of_any_bytes(folder, data):
    path = folder / "job.yaml"
    path.write_bytes(data)
    outcome(J.load_job, path, where=str(path))


# ------------------------------------------------------------------ --set
value_texts = st.one_of(
    st.text(max_size=30),
    st.sampled_from(MEANINGFUL + ["[320, 240]", "[1, 2, 3]", "{a: 1}", "&a [*a]", "*nope", "!!int abc",
                                  "!!python/object:os.system", "2001-13-45", "9" * 5000, "0b" + "1" * 20000,
                                  "[" * 10000 + "]" * 10000, "{" * 3000, ".nan", "-.inf", "null", "~", "",
                                  " ", "\x00", "\udcff", "a: b: c", "- x\n- y", "'unterminated", "yes"]),
    st.builds(lambda v: _dump_or_none(v) or "x", values),
)
set_keys = st.one_of(
    st.sampled_from(SCHEMA_PATHS),
    st.sampled_from(SCHEMA_PATHS).map(lambda p: p + ".deeper"),
    st.lists(st.one_of(st.sampled_from(SCHEMA_KEYS), st.text(max_size=8)), min_size=1, max_size=4).map(".".join),
    st.sampled_from(["", ".", "..", "a..b", " seed", "seed ", "optimize.", ".seed", "k" * 100_000, "a\nb",
                     "\udcff", "seed\x00", "render.resolution.0"]),
)
assignments = st.one_of(
    st.builds(lambda k, v: f"{k}={v}", set_keys, value_texts),
    st.text(max_size=30),                                   # often no '=' at all
)


@SETTINGS
@given(st.lists(assignments, min_size=1, max_size=4))
@example(["seed=" + "9" * 5000])
@example(["target.image=a\x00b"])
@example(["target.images=[a.png, '~nosuchuser_diffrast/b.png']"])
@example(["a\nb=1"])
@example(["k" * 100_000 + "=1"])
@example(["render.resolution=" + "[" * 10000 + "]" * 10000])
@example(["seed=0b" + "1" * 20000])
@example(["scene.init.center=[1e999, 0, 0]"])
def test_load_job_with_any_overrides(folder, overrides):
    path = folder / "job.yaml"
    path.write_text(TINY_JOB.replace("target.png", "t.png"))
    job, msg = outcome(J.load_job, path, overrides, where=str(path))
    if job is not None:
        assert isinstance(job[0], C.JobConfig)


@SETTINGS
@given(documents(), assignments)
def test_apply_override_to_any_document(doc, assignment):
    if not isinstance(doc, dict):
        doc = {"x": doc}
    key, msg = outcome(J.apply_override, doc, assignment)
    if msg is not None:
        assert msg.startswith("--set "), msg
    else:
        outcome(J.validate_job, doc, where="<job>")


# ------------------------------------------------------------------ big files, bombs, odd bytes
def _err(path, overrides=()) -> str:
    with pytest.raises(ConfigError) as info:
        J.load_job(path, overrides)
    return check_message(info.value, str(path))


def test_five_megabyte_job_file_is_refused_by_size(tmp_path, monkeypatch):
    p = tmp_path / "big.yaml"
    p.write_text("target: {image: t.png}\n" + ("junk_key: " + "x" * 70 + "\n") * 65_000)
    size = p.stat().st_size
    assert size > 5_000_000

    def never(*args, **kwargs):
        raise AssertionError("the oversized job file was read or parsed")

    monkeypatch.setattr(Path, "read_text", never)          # refused from its size alone
    monkeypatch.setattr(J, "_safe_yaml", never)
    assert _err(p) == f"{p}: job file is {size} bytes, more than the 1048576 allowed"


@pytest.mark.parametrize("quote", ["", '"', "'"])
def test_one_megabyte_single_line_string(tmp_path, quote):
    p = tmp_path / "long.yaml"
    p.write_text(f"target: {{image: t.png}}\nname: {quote}{'x' * 1_000_000}{quote}\n")
    msg = _err(p)
    assert "name: String should have at most 128 characters" in msg and len(msg) < 300


@pytest.mark.parametrize("doc", [
    "[" * 10_000 + "]" * 10_000,
    "target: {image: t.png}\ndeep: " + "[" * 10_000 + "]" * 10_000,
    "target: {image: t.png}\ndeep: " + "{a: " * 10_000 + "1" + "}" * 10_000,
    "- " * 10_000 + "x",
    "target: {image: t.png}\ndeep: " + "[" * 10_000,           # and never closed
])
def test_ten_thousand_deep_nesting(tmp_path, doc):
    p = tmp_path / "deep.yaml"
    p.write_text(doc + "\n")
    assert _err(p) == f"{p}: YAML nested too deeply"


def test_ten_thousand_deep_nesting_in_set(job_file):
    msg = _err(job_file, ["render.resolution=" + "[" * 10_000 + "]" * 10_000])
    assert msg == "--set render.resolution: nested too deeply"


def test_very_long_keys_are_cut_in_messages(tmp_path, job_file):
    p = tmp_path / "key.yaml"
    p.write_text(f"target: {{image: t.png}}\n? {'k' * 1_000_000}\n: 1\n")
    msg = _err(p)
    assert "unknown key" in msg and "(1000000 characters)" in msg and len(msg) < 400
    p.write_text(f"target: {{image: t.png}}\n{'k' * 5000}: 1\n")   # over YAML's 1024-character simple key
    assert "invalid YAML" in _err(p)
    msg = _err(job_file, ["k" * 100_000 + "=1"])
    assert msg.startswith("--set kkk") and "unknown key" in msg and len(msg) < 400
    msg = _err(job_file, ["optimize." + "k" * 100_000 + "=1"])
    assert "(100009 characters): unknown key" in msg and len(msg) < 400


@pytest.mark.parametrize("data, needle", [
    (b"target: {image: t.png}\nname: a\x00b\n", "job.yaml:2: invalid YAML (character '\\x00' is not allowed"),
    (b"\x00" * 100, "job.yaml:1: invalid YAML (character '\\x00'"),
    (b"target: {image: t.png}\n\x07: 1\n", "job.yaml:2: invalid YAML (character '\\x07'"),
    (b"target: {image: t.png}\nname: \xff\n", "not UTF-8"),
    (b"target: {image: t.png}\nname: \xc0\x80\n", "not UTF-8"),            # overlong NUL
    (b"target: {image: t.png}\nname: \xed\xa0\x80\n", "not UTF-8"),        # an encoded surrogate
    (b"\xff\xfe" + "target: {image: t.png}\n".encode("utf-16-le"), "not UTF-8"),
])
def test_nul_bytes_control_characters_and_invalid_utf8(tmp_path, data, needle):
    p = tmp_path / "job.yaml"
    p.write_bytes(data)
    assert needle in _err(p)


@pytest.mark.parametrize("line, needle", [
    ("seed: " + "9" * 5000, "integer '999"),
    ("seed: 0b" + "1" * 20000, "got <an integer of about 6021 digits>"),
    ("seed: 1" + ":59" * 3000, "digits>"),
    ("seed: 2001-13-45", "cannot read '2001-13-45' as timestamp"),
    ("seed: !!int abc", "cannot read 'abc' as int"),
    ("seed: !!float abc", "cannot read 'abc' as float"),
    ("seed: !!bool maybe", "cannot read 'maybe' as bool"),
    ("seed: !!timestamp abc", "cannot read 'abc' as timestamp"),
    ("seed: !!binary '@@'", "seed"),
    ("seed: !!omap [1]", "invalid YAML"),
    ("render: {resolution: " + "9" * 4000 + "}", "render.resolution: <an integer of about"),
])
def test_values_yaml_cannot_build_or_python_cannot_print(tmp_path, line, needle):
    p = tmp_path / "job.yaml"
    p.write_text("target: {image: t.png}\n" + line + "\n")
    assert needle in _err(p)


@pytest.mark.parametrize("text, overrides, needle", [
    ('target: {image: "a\\0b"}\n', (), "job.yaml: target.image: 'a\\x00b' is not a valid path (it contains a NUL"),
    ("target: {image: t.png}\n", ("target.image=a\x00b",), "--set target.image: 'a\\x00b' is not a valid path"),
    ("target: {images: [a.png, \"b\\0\"]}\ncameras: {orbit: {count: 2}}\n", (), "target.images: 'b\\x00'"),
    ("target: {image: ~nosuchuser_diffrast/x.png}\n", (), "target.image: cannot expand '~nosuchuser_diffrast'"),
    ("target: {image: t.png}\n", ("scene.mesh=~nosuchuser_diffrast/m.obj",), "--set scene.mesh: cannot expand"),
])
def test_paths_that_cannot_be_resolved(tmp_path, text, overrides, needle):
    p = tmp_path / "job.yaml"
    p.write_text(text)
    assert needle in _err(p, overrides)


def test_symlink_loop_and_overlong_paths_are_left_to_the_loaders(tmp_path):
    (tmp_path / "loop.png").symlink_to(tmp_path / "loop.png")
    p = tmp_path / "job.yaml"
    p.write_text("target: {image: loop.png}\n")
    job, _ = J.load_job(p)
    assert job.target.image.endswith("loop.png")             # the image loader says it cannot read it
    p.write_text(f"target: {{image: {'a' * 5000}.png}}\n")
    assert J.load_job(p)[0].target.image.endswith(".png")
    msg = check_message(pytest.raises(ConfigError, J.load_job, tmp_path / ("j" * 5000 + ".yaml")).value,
                        max_len=6000)                      # the file name as the user gave it
    assert "cannot read job file (File name too long)" in msg


@pytest.mark.parametrize("assignment, needle", [
    ("a\nb=1", "--set a\\nb: unknown key"),
    ("optimize.a\u2028b=1", "--set optimize.a\\u2028b: unknown key"),
    ("\udcff=1", "--set \udcff: unknown key"),                # undecodable argv bytes (surrogateescape)
    ("name=\udcff", "--set name: Input should be a valid string"),
])
def test_line_breaks_and_surrogates_in_set(job_file, assignment, needle):
    msg = _err(job_file, [assignment])
    assert needle in msg


def test_line_breaks_in_the_file_name(tmp_path):
    p = tmp_path / "a\nb.yaml"
    p.write_text("target: {image: t.png}\nseed: x\n")
    msg = _err(tmp_path / "a\nb.yaml")
    assert "a\\nb.yaml: seed:" in msg


# ------------------------------------------------------------------ through the real CLI
CLI_CASES = [
    ("file", "target: {image: target.png}\nseed: " + "9" * 5000 + "\n", (), "has more than 4300 digits"),
    ("file", "target: {image: target.png}\nseed: 2001-13-45\n", (), "as timestamp"),
    ("file", 'target: {image: "a\\0b.png"}\n', (), "target.image:"),
    ("file", "target: {image: target.png}\ndeep: " + "[" * 10_000 + "]" * 10_000 + "\n", (), "nested too deeply"),
    ("bytes", b"target: {image: target.png}\nname: a\x00b\n", (), "not allowed in YAML"),
    ("file", "target: {image: target.png}\nrender: {resolution: [" + "9" * 4000 + ", 2]}\n", (),
     "render.resolution"),
    ("file", None, ("seed=0b" + "1" * 20000,), "--set seed:"),
    ("file", None, ("a\nb=1",), "--set a"),
    ("file", None, ("target.image=~nosuchuser_diffrast/x.png",), "--set target.image: cannot expand"),
]


@pytest.mark.parametrize("kind, content, overrides, needle", CLI_CASES, ids=range(len(CLI_CASES)))
def test_cli_hostile_job_is_one_line_exit_2_no_output(run_cli, job_file, tmp_path, kind, content, overrides,
                                                      needle):
    if content is not None:
        job_file.write_bytes(content if isinstance(content, bytes) else content.encode())
    out = tmp_path / "out"
    args = ["optimize", job_file, "--out", out, "--quiet"]
    for o in overrides:
        args += ["--set", o]
    code, stdout, stderr = run_cli(*args)
    lines = stderr.splitlines()
    assert code == 2, (code, stdout, stderr[-2000:])
    assert len(lines) == 1 and lines[0].startswith("diffrast: config error: "), stderr[-2000:]
    assert "Traceback" not in stdout + stderr
    assert needle in lines[0], lines[0]
    assert not out.exists()


@pytest.mark.parametrize("section, leaf, needle", [
    ("render", {"background": [5, 0, 0]},
     "render.background: each colour component must be in [0, 1], got [5.0, 0.0, 0.0]"),
    ("render", {"background": [0, -0.1, 0]}, "render.background: each colour component must be in [0, 1]"),
    ("render", {"background": [0, 0, 1e30]}, "render.background: each colour component must be in [0, 1]"),
    ("scene", {"kind": "mesh", "icosphere": {}, "shading": {"light_dir": [0, 0, 0]}},
     "scene.shading.light_dir: must be a direction (a non-zero vector of moderate length)"),
    ("scene", {"kind": "mesh", "icosphere": {}, "shading": {"light_dir": [1e308, 1e308, 0]}},
     "scene.shading.light_dir: must be a direction"),
    ("scene", {"kind": "mesh", "icosphere": {}, "shading": {"light_dir": [1e-200, 0, 0]}},
     "scene.shading.light_dir: must be a direction"),
])
def test_values_that_would_poison_the_run(section, leaf, needle):
    """A background outside [0, 1] (the targets are in [0, 1]) or a zero light direction
    validate but make the run meaningless: refused up front."""
    job, msg = outcome(J.validate_job, {"target": {"image": "x"}, section: leaf}, where="<job>")
    assert job is None and needle in msg, msg


# ------------------------------------------------------------------ valid jobs are accepted, values kept
# Random but valid values for every documented key. A loader that refuses too much (or
# changes a value) fails these; the hostile tests above only show it refuses the bad.
VALID = settings(max_examples=int(os.environ.get("DIFFRAST_FUZZ_EXAMPLES", 60)), deadline=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def floats(lo, hi, **kw):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, **kw)


positive = floats(0.0, 1e6, exclude_min=True)
unit = floats(0.0, 1.0)
vec3 = st.lists(floats(-1e3, 1e3), min_size=3, max_size=3)
rgb = st.lists(unit, min_size=3, max_size=3)
side = st.integers(1, C.MAX_RESOLUTION)
names = st.from_regex(r"[A-Za-z0-9._-]{1,40}", fullmatch=True).filter(lambda n: n not in (".", ".."))


@st.composite
def some(draw, fields: dict) -> dict:
    """A mapping with a random subset of ``fields`` (key: strategy), each with a drawn value."""
    return {k: draw(v) for k, v in fields.items() if draw(st.booleans())}


@st.composite
def ordered(draw, lo=-1e4, hi=1e4):
    a, b = draw(floats(lo, hi)), draw(floats(lo, hi))
    assume(a != b)
    return [min(a, b), max(a, b)]


@st.composite
def directions(draw):
    v = draw(st.lists(floats(-10.0, 10.0), min_size=3, max_size=3))
    assume(sum(c * c for c in v) > 1e-6)
    return v


def groups(**extra):
    return some({"eps": st.none() | positive, "lr": st.none() | floats(0.0, 10.0), "bounds": st.none() | ordered(),
                 "optimize": st.booleans(), **extra})


@st.composite
def cameras(draw):
    """render.camera: position != look_at, 0 < near < far, 0 < fov_y < 180."""
    cam = draw(some({"position": vec3, "look_at": vec3, "up": directions(), "fov_y": floats(0.5, 179.5),
                     "near": floats(1e-3, 10.0), "far": floats(20.0, 1e5)}))
    assume(math.dist(cam.get("position", (0, 0, 3)), cam.get("look_at", (0, 0, 0))) > 0)
    return cam


@st.composite
def valid_jobs(draw) -> dict:
    job = draw(some({"name": names, "seed": st.integers(0, 2**32 - 1)}))
    target = draw(st.sampled_from(["image", "images", "transforms", "reference"]))
    count = draw(st.integers(1, 6))
    job["target"] = {"image": {"image": "t.png"}, "transforms": {"transforms": "transforms.json"},
                     "images": {"images": [f"view_{k}.png" for k in range(count)]},
                     "reference": {"reference": {"mesh": "ref.glb",
                                                 **draw(some({"supersample": st.integers(1, 4)}))}}}[target]
    cams = draw(some({"near": floats(1e-3, 1.0), "far": floats(2.0, 1e5)}))
    if target in ("images", "reference"):
        cams["orbit"] = {"count": count, **draw(some({"fov_y": floats(0.5, 179.5), "distance": positive,
                                                      "center": vec3, "hemisphere": st.booleans(),
                                                      "jitter": unit}))}
        if draw(st.booleans()):
            cams["holdout"] = draw(st.integers(0, count - 1))
    if cams:
        job["cameras"] = cams
    render = draw(some({"resolution": side | st.lists(side, min_size=2, max_size=2),
                        "projection": st.sampled_from(["orthographic", "perspective"]), "camera": cameras(),
                        "background": rgb, "supersample": st.integers(1, 4),
                        "cull": st.sampled_from(["auto", "none", "back"])}))
    if render:
        job["render"] = render
    if draw(st.booleans()):
        scene = draw(some({"kind": st.just("soup"), "triangles": st.integers(1, 50_000_000),
                           "init": some({"center": vec3, "extent": vec3, "size": positive, "color": ordered(0, 1)}),
                           "positions": groups(), "depths": groups(), "colors": groups()}))
    else:
        scene = {"kind": "mesh", **draw(st.sampled_from([
            {"mesh": "asset.obj"},
            {"icosphere": draw(some({"subdivisions": st.integers(0, 8), "radius": positive, "center": vec3}))}]))}
        scene.update(draw(some({
            "texture": groups(resolution=st.none() | st.integers(1, 16384)
                              | st.lists(st.integers(1, 16384), min_size=2, max_size=2),
                              init=st.just("asset") | rgb),
            "shading": some({"model": st.sampled_from(["lambert", "unlit"]), "light_dir": directions(),
                             "ambient": unit, "normals": st.sampled_from(["smooth", "face"])}),
            "laplacian": some({"weight": floats(0.0, 100.0), "weights": st.sampled_from(["uniform", "cotangent"])}),
            "normal_consistency": some({"weight": floats(0.0, 100.0)}),
            "positions": groups(), "colors": groups()})))
    job["scene"] = scene
    optimize = draw(some({
        "iterations": st.integers(1, 100_000_000), "estimator": st.sampled_from(["per_pixel", "full_image"]),
        "samples": st.integers(1, 256), "views_per_iteration": st.integers(1, 64),
        "loss": st.sampled_from(["l2", "l1"]), "atomics": st.sampled_from(["auto", "float", "fixed"]),
        "on_nonfinite": st.sampled_from(["stop", "skip"]), "fixed_point_scale": floats(1e-3, 2.0**24),
        "lr_schedule": st.sampled_from(["constant", "cosine", "step"]), "lr_final": floats(1e-6, 1.0),
        "adam": some({"beta1": floats(0.0, 0.999), "beta2": floats(0.0, 0.9999), "eps": positive})}))
    if optimize:
        job["optimize"] = optimize
    output = draw(some({"log_every": st.integers(1, 10**6), "checkpoint_every": st.integers(0, 10**6),
                        "frames": st.integers(0, 200)}))
    if output:
        job["output"] = output
    return job


def plain(value):
    """A loaded value as YAML would give it (tuples as lists)."""
    if isinstance(value, (tuple, list)):
        return [plain(v) for v in value]
    return value


def assert_loaded_as_given(model: BaseModel, doc: dict, paths=(), base: Path | None = None, prefix=""):
    """Every key of ``doc`` is in ``model`` with the same value (path keys absolute under ``base``)."""
    for key, value in doc.items():
        dotted = prefix + key
        got = getattr(model, key)
        if isinstance(value, dict):
            assert isinstance(got, BaseModel), dotted
            assert_loaded_as_given(got, value, paths, base, dotted + ".")
            continue
        if base is not None and dotted in paths:
            value = [str((base / v).resolve()) for v in value] if isinstance(value, list) else \
                str((base / value).resolve())
        assert plain(got) == value, (dotted, got, value)


@VALID
@given(valid_jobs())
def test_valid_jobs_are_accepted_with_their_values(doc):
    job = J.validate_job(doc)
    assert_loaded_as_given(job, doc)
    assert J.validate_job(yaml.safe_load(J.dump_job(job))) == job       # job.yaml loads back the same


@VALID
@given(valid_jobs())
def test_valid_job_files_are_accepted_with_their_values(folder, doc):
    path = folder / "valid.yaml"
    path.write_text(dump(doc), encoding="utf-8")
    job, base = J.load_job(path)
    assert base == folder.resolve()
    assert_loaded_as_given(job, doc, J.path_keys(), folder)


# --set KEY=VALUE for documented keys, with values valid on top of TINY_JOB (a soup, one image)
VALID_SETS = {
    "name": names, "seed": st.integers(0, 2**32 - 1),
    "render.resolution": side | st.lists(side, min_size=2, max_size=2),
    "render.supersample": st.integers(1, 4), "render.background": rgb,
    "render.projection": st.sampled_from(["orthographic", "perspective"]),
    "render.camera.fov_y": floats(0.5, 179.5), "render.camera.position": vec3.filter(any),
    "scene.triangles": st.integers(1, 50_000_000), "scene.init.size": positive,
    "scene.positions.lr": floats(0.0, 10.0), "scene.colors.eps": positive, "scene.depths.bounds": ordered(),
    "optimize.iterations": st.integers(1, 100_000_000), "optimize.samples": st.integers(1, 256),
    "optimize.estimator": st.sampled_from(["per_pixel", "full_image"]), "optimize.loss": st.sampled_from(["l1", "l2"]),
    "optimize.lr_schedule": st.sampled_from(["constant", "cosine", "step"]), "optimize.lr_final": floats(1e-6, 1.0),
    "optimize.adam.beta1": floats(0.0, 0.999), "optimize.adam.eps": positive,
    "output.frames": st.integers(0, 200), "output.log_every": st.integers(1, 10**6),
}


def yaml_text(value) -> str:
    """``value`` as the YAML text a user would type after '=' (one line, flow style)."""
    return yaml.safe_dump(value, default_flow_style=True, width=1 << 30).removesuffix("\n...\n").strip()


@VALID
@given(st.lists(st.tuples(st.sampled_from(sorted(VALID_SETS)), st.data()), min_size=1, max_size=6))
def test_valid_overrides_are_applied(folder, pairs):
    path = folder / "job.yaml"
    path.write_text(TINY_JOB.replace("target.png", "t.png"))
    sets, expected = [], {}
    for key, data in pairs:
        value = data.draw(VALID_SETS[key], label=key)
        sets.append(f"{key}={yaml_text(value)}")
        expected[key] = value                               # the last --set of a key wins
    job, _ = J.load_job(path, sets)
    for key, value in expected.items():
        got = job
        for part in key.split("."):
            got = getattr(got, part)
        assert plain(got) == value, (key, sets)
