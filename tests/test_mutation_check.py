"""tools/mutation_check.py: every planted bug still applies to the code, and the cheap
ones are caught by the tests that should catch them (the full run is a developer tool:
`python tools/mutation_check.py`)."""

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load_tool():
    sys.path.insert(0, str(ROOT / "tools"))        # mutation_check imports its list from tools/mutants.py
    spec = importlib.util.spec_from_file_location("mutation_check", ROOT / "tools" / "mutation_check.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("mutation_check", module)
    spec.loader.exec_module(module)
    return module


mc = _load_tool()


def test_every_mutant_applies_exactly_once_to_the_current_tree():
    problems = mc.check_applies(ROOT, mc.MUTANTS)
    assert problems == [], "\n".join(problems)


def test_the_mutant_list_is_well_formed():
    names = [m.name for m in mc.MUTANTS]
    assert len(names) >= 16 and len(set(names)) == len(names)
    assert set(mc.QUICK) <= set(names) and 3 <= len(mc.QUICK) <= 4
    for m in mc.MUTANTS:
        assert m.description and "\n" not in m.description, m.name
        assert m.old != m.new and m.tests, m.name
        assert all(t.startswith("tests/test_") and ".py" in t for t in m.tests), m.name
    kinds = {m.kind for m in mc.MUTANTS}
    assert kinds == {"shader", "python"}


def test_drift_fails_loudly_naming_the_mutant():
    m = mc.Mutant("demo", "demo", "glsl/x.comp", "a = 1;", "a = 2;", ("tests/test_x.py",))
    assert mc.apply_mutant("b; a = 1; c", m) == "b; a = 2; c"
    for text, count in (("nothing here", 0), ("a = 1; a = 1;", 2)):
        with pytest.raises(mc.MutationCheckError, match=rf"mutant demo: .* occurs {count} times"):
            mc.apply_mutant(text, m)


def test_wildcard_selectors_expand_against_collected_tests():
    collected = {"tests/test_k.py": ["tests/test_k.py::test_adam_a[1]", "tests/test_k.py::test_adam_a[2]",
                                     "tests/test_k.py::test_other", "tests/test_k.py::test_soup[x-l1]"]}
    m = mc.Mutant("demo", "demo", "glsl/x.comp", "a", "b",
                  ("tests/test_k.py::test_adam*", "tests/test_k.py::*l1*", "tests/test_k.py::test_other",
                   "tests/test_k.py::test_gone", "tests/test_missing.py"))
    args, missing = mc.resolve_tests(m, collected)
    assert args == ["tests/test_k.py::test_adam_a", "tests/test_k.py::test_soup[x-l1]", "tests/test_k.py::test_other"]
    assert missing == ["tests/test_k.py::test_gone", "tests/test_missing.py"]


def test_quick_subset_is_caught(tmp_path):
    """Baseline, then the cheap shader and Python mutants (the Python one in a copy that is
    verified to be what gets imported); each must fail its tests, not merely break them."""
    log = []
    out = mc.run_check(ROOT, mc.select(quick=True), workdir=tmp_path, log=log.append)
    assert Path(out["baseline"]["import"]).resolve().is_relative_to(tmp_path.resolve())
    assert not out["baseline"]["failing"], out["baseline"]
    for r in out["results"]:
        assert r.status == "caught" and r.caught_by, (r, "\n".join(log))
