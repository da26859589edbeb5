"""Machine-readable summaries of a batch for CI systems: JSON and JUnit XML (one test case per
job; a failed job's one-line error as its failure message, its log as system-out)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from ..io.atomic import atomic_write_bytes


def write_json(summary: dict, path) -> Path:
    return atomic_write_bytes(Path(path), (json.dumps(summary, indent=2) + "\n").encode("utf-8"))


def junit_tree(summary: dict, suite_name: str = "diffrast batch") -> ET.Element:
    jobs = summary["jobs"]
    suites = ET.Element("testsuites", name=suite_name, tests=str(len(jobs)), failures=str(summary["failed"]),
                        time=f"{summary['seconds']:.3f}")
    suite = ET.SubElement(suites, "testsuite", name=suite_name, tests=str(len(jobs)), failures=str(summary["failed"]),
                          errors="0", skipped="0", time=f"{summary['seconds']:.3f}")
    for r in jobs:
        case = ET.SubElement(suite, "testcase", classname="diffrast.batch", name=r["name"], time=f"{r['seconds']:.3f}")
        if r["status"] != "passed":
            ET.SubElement(case, "failure", message=r.get("error") or "failed", type="DiffrastError").text = \
                r.get("error") or "failed"
        else:
            props = ET.SubElement(case, "properties")
            for key in ("psnr", "holdout_psnr", "loss", "iterations", "it_per_s"):
                if r.get(key) is not None:
                    ET.SubElement(props, "property", name=key, value=str(r[key]))
        log = Path(summary["out"]) / f"{r['name']}.log"
        if log.is_file():
            ET.SubElement(case, "system-out").text = log.read_text(encoding="utf-8", errors="replace")[-20000:]
    return suites


def write_junit(summary: dict, path) -> Path:
    tree = junit_tree(summary)
    ET.indent(tree)
    data = b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(tree, encoding="utf-8")
    return atomic_write_bytes(Path(path), data)
