"""The object's pose as parameters (``scene.pose``; docs/soft.md, "Pose"): the mesh is seen by a
camera at ``distance`` from direction (``elevation``, ``azimuth``) looking at its origin (up +y),
with vertical field of view ``fov_y``; the job's own camera (render.camera, perspective) is where
that camera is. Parameters: ``pose_angles`` (elevation, azimuth in radians), ``pose_fov``
(fov_y in radians) and ``pose_distance``; every pixel of the object depends on them (one contributor, numbered after
the mesh's). The vertex transform is mesh_perturbed.glsl's ``posed``: a point goes into the pose
camera's frame, its x and y are scaled by tan(fov0/2) / tan(fov_y/2) (fov0 the job camera's),
then into the world by the job camera's camera-to-world matrix (u_pose_to_world).
"""

from __future__ import annotations

import math

import numpy as np
from pydantic import Field

from ...errors import ConfigError
from ...schema import Float, ParamGroupConfig, Strict
from ..camera import gl_matrix, look_at
from ..params import MAP_DIRECT, ParamGroup, group_settings


class PoseStart(Strict):
    distance: Float = Field(3.0, gt=0, description="distance of the viewing camera from the object's origin")
    elevation: Float = Field(0.0, ge=-89.0, le=89.0, description="degrees above the xz plane")
    azimuth: Float = Field(0.0, description="degrees about +y, 0 = looking from +z")
    fov_y: Float | None = Field(None, gt=0, lt=180, description="degrees; null = render.camera.fov_y")


class PoseConfig(Strict):
    """The pose the fit starts from and how its parameters move."""

    start: PoseStart = PoseStart()
    angles: ParamGroupConfig = Field(ParamGroupConfig(), description="elevation and azimuth (radians): "
                                     "default step half a pixel's angle, learning rate one pixel's angle")
    fov: ParamGroupConfig = Field(ParamGroupConfig(), description="fov_y (radians): default step a quarter "
                                  "of a pixel's angle, learning rate half of one")
    distance: ParamGroupConfig = Field(ParamGroupConfig(), description="default step and learning rate: "
                                       "the distance times two pixels' angle")


class PoseCamera:
    """What the pose needs from the job: the render camera's fov and image height, its
    camera-to-world matrix."""

    def __init__(self, render_cfg, height: int, multi_view: bool):
        if multi_view or render_cfg.projection != "perspective":
            raise ConfigError("scene.pose: the pose is seen by the one render.camera of a single-view "
                              "perspective job (render.projection: perspective)")
        cam = render_cfg.camera
        self.fov0 = math.radians(cam.fov_y)
        self.pixel_angle = 2.0 * math.tan(self.fov0 / 2.0) / height
        self.to_world = np.linalg.inv(look_at(cam.position, cam.look_at, cam.up))


def pose_groups(cfg: PoseConfig, camera: PoseCamera, contributor: int) -> list:
    start = cfg.start
    px = camera.pixel_angle
    return [ParamGroup("pose_angles", 2, 2, **group_settings(cfg.angles, 0.5 * px, px, (-1e4, 1e4)),
                       contrib_base=contributor, mapping=MAP_DIRECT),
            ParamGroup("pose_fov", 1, 1, **group_settings(cfg.fov, 0.25 * px, 0.5 * px, (0.01, 3.0)),
                       contrib_base=contributor, mapping=MAP_DIRECT),
            ParamGroup("pose_distance", 1, 1, **group_settings(cfg.distance, 2.0 * start.distance * px,
                                                               2.0 * start.distance * px, (1e-3, 1e4)),
                       contrib_base=contributor, mapping=MAP_DIRECT)]


def initial(cfg: PoseConfig, camera: PoseCamera) -> np.ndarray:
    s = cfg.start
    fov = math.radians(s.fov_y) if s.fov_y is not None else camera.fov0
    return np.array([math.radians(s.elevation), math.radians(s.azimuth), fov, s.distance], np.float32)   # group order


def defines(camera: PoseCamera, contributor: int) -> dict:
    return {"POSE_CONTRIB": contributor, "POSE_TAN_HALF_FOV0": repr(math.tan(camera.fov0 / 2.0))}


def uniforms(camera: PoseCamera) -> dict:
    return {"u_pose_to_world": gl_matrix(camera.to_world)}


def values(theta: np.ndarray, layout) -> dict:
    """The pose at ``theta``: distance, elevation, azimuth and fov_y (degrees)."""
    e, a = theta[layout.slice("pose_angles")]
    f = theta[layout.slice("pose_fov")][0]
    return {"distance": float(theta[layout.slice("pose_distance")][0]), "elevation": math.degrees(e),
            "azimuth": math.degrees(a), "fov_y": math.degrees(f)}
