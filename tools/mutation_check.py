#!/usr/bin/env python3
"""Mutation check: plant known bugs one at a time and see which tests catch them.

    python tools/mutation_check.py [--quick] [--only NAME ...] [--list] [--json FILE]
                                   [--check-applies] [--allow-failing-baseline] [--timeout S]

Every mutant is a fixed textual edit (``old`` -> ``new``) of one file of the repository.
``old`` must occur exactly once in that file; when it does not (the code drifted), the
tool stops and names the mutant, so the list is kept in step with the code.

The working tree is never modified:

- shader mutants (files under glsl/): glsl/ is copied to a temporary folder, the edit is
  made there and pytest runs in the repository with ``DIFFRAST_GLSL_DIR`` pointing at it;
- Python mutants: diffrast_cli/, glsl/, tests/, configs/, assets/ and the top-level
  files the tests read are copied to a temporary folder, the edit is made there and
  pytest runs in that copy (cwd and ``PYTHONPATH``), so that the copy is what gets
  imported, whatever is installed (editable or not). This is checked: once with
  ``python -c "import diffrast_cli"`` in the same environment, and in every pytest run
  of a Python mutant by a small plugin that stops the run if diffrast_cli was imported
  from elsewhere.

Test selection: a mutant names test files and node ids. ``file::name`` selects that
test (all its parametrisations); a ``*`` in the part after ``::`` is a wildcard
(``tests/test_kernels.py::test_adam*``). Files that do not exist and selectors that
match no collected test are left out (reported on stderr), so the list can name
tests that are still being written.

Before the mutants, the union of the selected tests runs on the unmutated code (the
shader set in the working tree, the Python set in an unmutated copy); it must pass,
otherwise the table would be meaningless and the tool stops. With
``--allow-failing-baseline`` the tests that fail there are deselected instead (and
listed in the output).

A mutant is *caught* when some selected test fails; a run that fails because a shader
no longer compiles, a collection error or a test setup error is reported as
``caught (error)`` (a mutant that does not compile is a useless mutant), a run that
hangs past ``--timeout`` as ``caught (timeout)``. Output: a markdown table (mutant |
file | caught by | seconds), a summary line, exit code 1 if any mutant survived
(2 for a tool error: drift, failing baseline, wrong import).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mutants import MUTANTS, QUICK, Mutant  # noqa: E402  (tools/ is not a package)

ROOT = Path(__file__).resolve().parents[1]

# What a Python mutant's copy of the repository holds (what the tests read).
COPY_DIRS = ("diffrast_cli", "glsl", "tests", "configs", "assets", "docs")
COPY_FILES = ("pyproject.toml", "README.md")

GUARD_PLUGIN = "_mutation_import_guard"
GUARD_ENV = "DIFFRAST_MUTATION_EXPECT"
GUARD_SOURCE = '''\
"""pytest plugin written by tools/mutation_check.py: stop the run if diffrast_cli is not
imported from the mutated copy (e.g. an installed package shadowing it)."""
import os
from pathlib import Path

import pytest


def pytest_collection_finish(session):
    import diffrast_cli
    expected = Path(os.environ["{env}"]).resolve()
    got = Path(diffrast_cli.__file__).resolve()
    if expected not in got.parents:
        raise pytest.UsageError(f"mutation check: diffrast_cli imported from {{got}}, not from {{expected}}")
'''.format(env=GUARD_ENV)

def _pytest_cmd(cwd: Path, args) -> list[str]:
    """``python -m pytest -q -p no:cacheprovider``, without the hypothesis plugin (its import
    is most of pytest's start-up here) unless a selected test file uses hypothesis."""
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    files = {a.split("::")[0] for a in args if not a.startswith("-")}
    uses = False
    for f in files:
        try:
            uses = uses or "hypothesis" in (Path(cwd) / f).read_text()
        except OSError:
            pass
    return cmd if uses else cmd + ["-p", "no:hypothesispytest"]


COMPILE_ERROR = re.compile(r"shaders? \S.*(does not compile|do not build)")


class MutationCheckError(Exception):
    """A problem of the tool's setup (drift, failing baseline, wrong import): exit code 2."""


# -- applying --------------------------------------------------------------------------

def apply_mutant(text: str, mutant: Mutant) -> str:
    """``text`` with the mutant's edit; MutationCheckError naming the mutant unless ``old``
    occurs exactly once."""
    n = text.count(mutant.old)
    if n != 1:
        raise MutationCheckError(f"mutant {mutant.name}: its snippet occurs {n} times in {mutant.file} "
                                 f"(expected exactly once; update the mutant): {mutant.old!r}")
    return text.replace(mutant.old, mutant.new)


def check_applies(root: Path, mutants) -> list[str]:
    """Problems (one line each, naming the mutant) of mutants whose edit does not apply exactly once."""
    problems = []
    for m in mutants:
        path = Path(root) / m.file
        if not path.is_file():
            problems.append(f"mutant {m.name}: {m.file} does not exist")
            continue
        try:
            mutated = apply_mutant(path.read_text(), m)
        except MutationCheckError as exc:
            problems.append(str(exc))
            continue
        if mutated == path.read_text():
            problems.append(f"mutant {m.name}: the edit changes nothing")
    return problems


def _copy_tree(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache"))


def prepare_shader_dir(root: Path, dest: Path, mutant: Mutant | None) -> Path:
    """A copy of glsl/ under ``dest`` with the mutant applied; returns the glsl folder."""
    glsl = dest / "glsl"
    _copy_tree(root / "glsl", glsl)
    if mutant is not None:
        target = dest / mutant.file
        target.write_text(apply_mutant(target.read_text(), mutant))
    return glsl


def prepare_python_tree(root: Path, dest: Path, mutant: Mutant | None) -> Path:
    """A copy of what the tests need under ``dest``/repo with the mutant applied; returns it."""
    repo = dest / "repo"
    repo.mkdir(parents=True)
    for d in COPY_DIRS:
        if (root / d).is_dir():
            _copy_tree(root / d, repo / d)
    for f in COPY_FILES:
        if (root / f).is_file():
            shutil.copy2(root / f, repo / f)
    (repo / f"{GUARD_PLUGIN}.py").write_text(GUARD_SOURCE)
    if mutant is not None:
        target = repo / mutant.file
        target.write_text(apply_mutant(target.read_text(), mutant))
    return repo


def _base_env() -> dict:
    env = dict(os.environ)
    env["PYTHONDONTWRITEBYTECODE"] = "1"    # no __pycache__ written into the working tree
    env.pop("DIFFRAST_DEBUG", None)
    return env


def shader_env(glsl: Path) -> dict:
    env = _base_env()
    env["DIFFRAST_GLSL_DIR"] = str(glsl)
    return env


def python_env(repo: Path) -> dict:
    env = _base_env()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(repo), env.get("PYTHONPATH")]))
    env["DIFFRAST_GLSL_DIR"] = str(repo / "glsl")
    env[GUARD_ENV] = str(repo)
    return env


def verify_import(repo: Path, env: dict) -> str:
    """Check that python in ``env`` and cwd ``repo`` imports diffrast_cli (and its shaders) from ``repo``."""
    code = ("import diffrast_cli, diffrast_cli.gl.shaders as s; "
            "print(diffrast_cli.__file__); print(s.glsl_dir())")
    proc = subprocess.run([sys.executable, "-c", code], cwd=repo, env=env, capture_output=True, text=True,
                          timeout=120)
    if proc.returncode != 0:
        raise MutationCheckError(f"cannot import diffrast_cli in the copy {repo}: {proc.stderr.strip()[-400:]}")
    lines = proc.stdout.split()
    repo = repo.resolve()
    for line in lines[:2]:
        if repo not in Path(line).resolve().parents:
            raise MutationCheckError(f"python imports {line}, not the mutated copy under {repo}: "
                                     f"Python mutants would test the unmutated code")
    return lines[0]


# -- test selection --------------------------------------------------------------------

def _test_files(mutants) -> list[str]:
    out = []
    for m in mutants:
        for arg in m.tests:
            f = arg.split("::")[0]
            if f not in out:
                out.append(f)
    return out


def collect(root: Path, files: list[str], env: dict) -> tuple[dict, list[str]]:
    """{file: [node ids]} of the existing ``files`` (collected in ``root``), and warnings."""
    existing = [f for f in files if (root / f).is_file()]
    ids: dict[str, list[str]] = {f: [] for f in existing}
    warnings = []
    if not existing:
        return ids, warnings
    proc = subprocess.run(_pytest_cmd(root, existing) + ["--collect-only", *existing], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300)
    for line in proc.stdout.splitlines():
        line = line.strip()
        f = line.split("::")[0]
        if "::" in line and f in ids:
            ids[f].append(line)
    if proc.returncode not in (0, 5):
        broken = sorted({ln.split()[1] for ln in proc.stdout.splitlines() if ln.startswith("ERROR ")
                         and len(ln.split()) > 1})
        warnings.append(f"collection errors ({', '.join(broken) or proc.returncode}): "
                        f"their tests are left out")
    return ids, warnings


def _matches(selector: str, test_part: str) -> bool:
    if "*" in selector:
        pattern = ".*".join(re.escape(p) for p in selector.split("*"))
        return re.fullmatch(pattern, test_part) is not None
    return test_part == selector or test_part.startswith(selector + "[") or test_part.startswith(selector + "::")


def resolve_tests(mutant: Mutant, collected: dict) -> tuple[list[str], list[str]]:
    """pytest arguments of a mutant and the selectors that matched nothing. A plain
    ``file::name`` stays as written (pytest expands its parametrisations itself, which
    survives a test's parameters being renamed meanwhile); a wildcard becomes the
    matching tests (``file::function``, or the full id where the wildcard matched a
    parameter id)."""
    args, missing = [], []
    for arg in mutant.tests:
        f, _, selector = arg.partition("::")
        if f not in collected:
            missing.append(arg)
            continue
        if not selector:
            picked = [f]
        else:
            picked = []
            for node in collected[f]:
                test = node.split("::", 1)[1]
                if not _matches(selector, test):
                    continue
                if "*" not in selector:
                    node = arg
                else:
                    bare = re.sub(r"\[.*\]$", "", test)
                    if _matches(selector, bare):
                        node = f"{f}::{bare}"
                if node not in picked:
                    picked.append(node)
        if not picked:
            missing.append(arg)
        args.extend(p for p in picked if p not in args)
    return args, missing


# -- running ---------------------------------------------------------------------------

@dataclass
class PytestRun:
    rc: int
    seconds: float
    failed: list = field(default_factory=list)    # node ids of failures
    errors: list = field(default_factory=list)    # node ids of errors (setup, collection)
    compile_error: bool = False
    timed_out: bool = False
    tail: str = ""


def _node_id(classname: str, name: str, cwd: Path) -> str:
    if not classname:
        return name
    parts = classname.split(".")
    for k in range(len(parts), 0, -1):
        path = "/".join(parts[:k]) + ".py"
        if (cwd / path).is_file():
            return "::".join([path, *parts[k:], name])
    return f"{classname}::{name}"


def run_pytest(args: list[str], cwd: Path, env: dict, junit: Path, *, stop_first: bool = True,
               deselect=(), timeout: float = 600.0) -> PytestRun:
    cmd = _pytest_cmd(cwd, args) + [f"--junitxml={junit}"]
    if stop_first:
        cmd.append("-x")
    if GUARD_ENV in env:
        cmd += ["-p", GUARD_PLUGIN]
    for d in deselect:
        cmd += ["--deselect", d]
    cmd += list(args)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)        # the run's own process group (pytest and its children)
        out, _ = proc.communicate()
        timed_out = True
    run = PytestRun(rc=proc.returncode, seconds=time.perf_counter() - t0, timed_out=timed_out,
                    tail=(out or "")[-3000:])
    if junit.is_file():
        try:
            tree = ET.parse(junit)
        except ET.ParseError:
            tree = None
        for case in (tree.iter("testcase") if tree is not None else ()):
            node = _node_id(case.get("classname", ""), case.get("name", ""), cwd)
            for tag, bucket in (("failure", run.failed), ("error", run.errors)):
                for el in case.findall(tag):
                    bucket.append(node)
                    if COMPILE_ERROR.search((el.get("message") or "") + (el.text or "")):
                        run.compile_error = True
    return run


@dataclass
class Result:
    name: str
    file: str
    description: str
    status: str               # caught | caught (error) | caught (timeout) | survived | survived (no tests)
                              # | not run (pytest exit N): counts as not caught
    caught_by: list
    seconds: float
    tests: list
    left_out: list

    @property
    def caught(self) -> bool:
        return self.status.startswith("caught")


def classify(run: PytestRun) -> tuple[str, list]:
    if run.timed_out:
        return "caught (timeout)", run.failed + run.errors
    if run.rc == 0:
        return "survived", []
    if run.rc == 5:
        return "survived (no tests)", []
    if run.rc == 1 and run.failed and not run.errors and not run.compile_error:
        return "caught", run.failed
    if run.rc in (1, 2):
        return "caught (error)", (run.failed + run.errors) or run.tail.strip().splitlines()[-1:]
    # 4: usage error, e.g. a selected test renamed since collection; 3: pytest internal error
    lines = [ln for ln in run.tail.splitlines() if ln.startswith("ERROR")]
    return f"not run (pytest exit {run.rc})", lines[:1]


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run_check(root: Path, mutants, *, workdir: Path | None = None, allow_failing_baseline: bool = False,
              timeout: float = 600.0, every: bool = False, log=_log) -> dict:
    """Baseline, then every mutant; returns {"results": [Result], "baseline": {...}, ...}.
    ``every``: run each mutant's tests to the end (every catching test listed), not to the first failure."""
    root = Path(root).resolve()
    mutants = list(mutants)
    problems = check_applies(root, mutants)
    if problems:
        raise MutationCheckError("\n".join(problems))
    own_tmp = workdir is None
    work = Path(tempfile.mkdtemp(prefix="mutation_check_")) if own_tmp else Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    try:
        base_glsl = prepare_shader_dir(root, work / "baseline_glsl", None)
        collected, warnings = collect(root, _test_files(mutants), shader_env(base_glsl))
        for w in warnings:
            log(f"warning: {w}")
        plans = {}
        for m in mutants:
            args, missing = resolve_tests(m, collected)
            plans[m.name] = (args, missing)
            if missing:
                log(f"note: {m.name}: no tests for {', '.join(missing)}")

        # Baselines: the union of the selected tests on unmutated code, in the mutants' setups.
        baseline = {"failing": [], "seconds": 0.0, "import": None}
        base_repo = None
        setups = {}
        if any(m.kind == "shader" for m in mutants):
            setups["shader"] = (root, shader_env(base_glsl))
        if any(m.kind == "python" for m in mutants):
            base_repo = prepare_python_tree(root, work / "baseline_py", None)
            env = python_env(base_repo)
            baseline["import"] = verify_import(base_repo, env)
            log(f"python mutants import {baseline['import']}")
            setups["python"] = (base_repo, env)
        failing = set()
        for kind, (cwd, env) in setups.items():
            union = []
            for m in mutants:
                if m.kind == kind:
                    union.extend(a for a in plans[m.name][0] if a not in union)
            if not union:
                continue
            log(f"baseline ({kind} mutants): {len(union)} selections ...")
            run = run_pytest(union, cwd, env, work / f"baseline_{kind}.xml", stop_first=False, timeout=3 * timeout)
            baseline["seconds"] += run.seconds
            log(f"baseline ({kind} mutants): rc {run.rc}, {run.seconds:.1f} s")
            if run.rc not in (0, 1, 5) or run.timed_out or (run.rc == 1 and not (run.failed or run.errors)):
                raise MutationCheckError(f"baseline run ({kind} mutants) did not finish cleanly (rc {run.rc}):\n"
                                         f"{run.tail[-2000:]}")
            bad = run.failed + run.errors
            if bad and not allow_failing_baseline:
                raise MutationCheckError(
                    f"baseline ({kind} mutants): {len(bad)} selected tests fail on the unmutated code, so the "
                    f"table would be meaningless (--allow-failing-baseline deselects them):\n  "
                    + "\n  ".join(bad))
            for b in bad:
                log(f"baseline failure, deselected: {b}")
            failing.update(bad)
        baseline["failing"] = sorted(failing)

        results = []
        for n, m in enumerate(mutants, start=1):
            args, missing = plans[m.name]
            args = [a for a in args if a not in failing]
            deselect = sorted(failing)      # pytest ignores the ones not selected
            mdir = work / f"m{n:02d}"
            if not args:
                res = Result(m.name, m.file, m.description, "survived (no tests)", [], 0.0, [], list(missing))
            else:
                if m.kind == "shader":
                    cwd, env = root, shader_env(prepare_shader_dir(root, mdir, m))
                else:
                    repo = prepare_python_tree(root, mdir, m)
                    cwd, env = repo, python_env(repo)
                run = run_pytest(args, cwd, env, mdir / "junit.xml", deselect=deselect, timeout=timeout,
                                 stop_first=not every)
                status, by = classify(run)
                res = Result(m.name, m.file, m.description, status, by, round(run.seconds, 1), args, list(missing))
                shutil.rmtree(mdir, ignore_errors=True)
            results.append(res)
            shown = ", ".join(map(str, res.caught_by)) if res.caught else ""
            log(f"[{n:2d}/{len(mutants)}] {m.name}: {res.status}{' by ' + shown if shown else ''} "
                f"({res.seconds:.1f} s)")
        return {"results": results, "baseline": baseline, "seconds": round(time.perf_counter() - t_start, 1),
                "collection_warnings": warnings}
    finally:
        if own_tmp:
            shutil.rmtree(work, ignore_errors=True)


# -- output ----------------------------------------------------------------------------

def _short(node: str) -> str:
    return node[len("tests/"):] if node.startswith("tests/") else node


def table(results) -> str:
    lines = ["| mutant | file | caught by | seconds |", "| --- | --- | --- | --- |"]
    for r in results:
        if r.status == "caught":
            names = [_short(x) for x in r.caught_by]
            by = ", ".join(names[:4]) + (f" (+{len(names) - 4} more)" if len(names) > 4 else "")
        elif r.caught:
            by = f"{r.status}: " + ", ".join(_short(str(x)) for x in r.caught_by)
        else:
            by = f"**{r.status.upper()}**" + (": " + ", ".join(map(str, r.caught_by)) if r.caught_by else "")
        lines.append(f"| {r.name} | {r.file} | {by} | {r.seconds:.1f} |")
    return "\n".join(lines)


def summary(results) -> str:
    caught = sum(r.caught for r in results)
    survived = [r.name for r in results if not r.caught]
    line = f"{caught}/{len(results)} caught"
    return line + (f"; survived: {', '.join(survived)}" if survived else "")


def list_mutants(mutants) -> str:
    lines = ["| mutant | file | what | tests |", "| --- | --- | --- | --- |"]
    for m in mutants:
        lines.append(f"| {m.name} | {m.file} | {m.description} | {' '.join(m.tests)} |")
    return "\n".join(lines)


def select(names=None, quick=False) -> list[Mutant]:
    by_name = {m.name: m for m in MUTANTS}
    wanted = list(names or (QUICK if quick else by_name))
    unknown = [n for n in wanted if n not in by_name]
    if unknown:
        raise MutationCheckError(f"unknown mutant(s) {', '.join(unknown)}; --list shows them")
    return [by_name[n] for n in wanted]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help=f"only the cheap subset: {', '.join(QUICK)}")
    p.add_argument("--only", nargs="+", metavar="NAME", help="only these mutants")
    p.add_argument("--list", action="store_true", help="print the mutants and exit")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    p.add_argument("--check-applies", action="store_true",
                   help="only check that every mutant's snippet occurs exactly once (no tests)")
    p.add_argument("--allow-failing-baseline", action="store_true",
                   help="deselect tests that fail on the unmutated code instead of stopping")
    p.add_argument("--every", action="store_true",
                   help="list every test that catches a mutant (slower: no stop at the first failure)")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds per mutant run (default 600)")
    a = p.parse_args(argv)
    try:
        mutants = select(a.only, a.quick)
        if a.list:
            print(list_mutants(mutants))
            return 0
        if a.check_applies:
            problems = check_applies(ROOT, mutants)
            for line in problems:
                print(line, file=sys.stderr)
            if not problems:
                print(f"all {len(mutants)} mutants apply exactly once")
            return 2 if problems else 0
        out = run_check(ROOT, mutants, allow_failing_baseline=a.allow_failing_baseline, timeout=a.timeout,
                        every=a.every)
    except MutationCheckError as exc:
        print(f"mutation_check: {exc}", file=sys.stderr)
        return 2
    results = out["results"]
    print(table(results))
    print()
    if out["baseline"]["failing"]:
        print(f"deselected (failing on the unmutated code): {', '.join(out['baseline']['failing'])}")
    print(summary(results) + f" ({out['seconds']:.0f} s)")
    if a.json:
        data = {"results": [asdict(r) | {"caught": r.caught} for r in results], "baseline": out["baseline"],
                "seconds": out["seconds"], "caught": sum(r.caught for r in results), "total": len(results)}
        Path(a.json).write_text(json.dumps(data, indent=2) + "\n")
    return 0 if all(r.caught for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
