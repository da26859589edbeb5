"""The PBR job schema: one-line errors naming the key for bad lights, maps and displacement."""

from __future__ import annotations

import pytest

from diffrast_cli.errors import ConfigError
from diffrast_cli.jobfile import validate_job


def _job(**scene):
    return {"name": "x", "target": {"image": "t.png"},
            "scene": {"kind": "mesh", "icosphere": {}, "shading": {"model": "pbr"}, **scene}}


@pytest.mark.parametrize("scene, words", [
    ({"lights": [[{"type": "directional"}]]}, ["scene.lights", "needs direction"]),
    ({"lights": [[{"type": "point", "position": [0, 1, 0], "direction": [0, 1, 0]}]]}, ["direction is not a setting"]),
    ({"lights": []}, ["at least one light setup"]),
    ({"lights": [[{"type": "environment"}]]}, ["needs file"]),
    ({"material": {"roughness": {"init": [0.1, 0.2, 0.3]}}}, ["roughness.init"]),
    ({"material": {"height": {}}}, ["displacement"]),
    ({"displacement": {"level": 3}}, ["displacement"]),
    ({"texture": {"resolution": 64}}, ["scene.material.base_color"]),
])
def test_bad_pbr_settings_are_one_line_errors(scene, words):
    with pytest.raises(ConfigError) as err:
        validate_job(_job(**scene), "job.yaml")
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith("job.yaml")
    for w in words:
        assert w in msg


def test_material_implies_pbr_and_the_dump_reloads():
    from diffrast_cli.jobfile import dump_job
    import yaml
    job = validate_job({"name": "x", "target": {"image": "t.png"},
                        "scene": {"kind": "mesh", "icosphere": {}, "material": {}}}, "job.yaml")
    assert job.scene.shading.model == "pbr"
    again = validate_job(yaml.safe_load(dump_job(job)), "job.yaml")
    assert again.scene.material == job.scene.material
