"""The numpy reference of docs/splats.md (float64); the GLSL `splats` scene is tested against it.

Readings of the document where it leaves a choice (the GLSL must make the same):

* Footprint: a sample at q gets a fragment of a splat only if |q_u - u| <= r and |q_v - v| <= r
  (the square is closed). The GLSL should not leave this to the rasteriser's edge rule: a
  splat centred on a pixel centre has its square's edges on pixel centres.
* Depth ties (equal clip_z / w) composite the lower splat index first.
* T-min: compositing stops after the fragment that makes T < 1e-4 (strictly below).
* The view direction of the SH colour is normalize(mu - eye) in float64; mu == eye (only
  possible with an orthographic camera) gives d = 0, i.e. only the degree-0 term.
"""

from __future__ import annotations

import numpy as np

from diffrast_cli.io.splat_ply import SplatCloud

C0 = 0.28209479177387814
C1 = 0.4886025119029199
C2 = (1.0925484305920792, -1.0925484305920792, 0.31539156525252005, -1.0925484305920792, 0.5462742152960396)
C3 = (-0.5900435899266435, 2.890611442640554, -0.4570457994644658, 0.3731763325901154,
      -0.4570457994644658, 1.445305721320277, -0.5900435899266435)
LOW_PASS = 0.3
ALPHA_MAX = 0.99
ALPHA_MIN = 1.0 / 255.0
T_MIN = 1e-4
CLIP_GUARD = 1.3


def sh_colour(sh, dirs) -> np.ndarray:
    """Colour (N, 3) = max(SH(d) + 0.5, 0) of coefficients sh (N, K, 3) in unit directions dirs (N, 3)."""
    sh = np.asarray(sh, np.float64)
    x, y, z = (np.asarray(dirs, np.float64)[:, i:i + 1] for i in range(3))
    k = sh.shape[1]
    r = C0 * sh[:, 0]
    if k > 1:
        r = r - C1 * y * sh[:, 1] + C1 * z * sh[:, 2] - C1 * x * sh[:, 3]
    if k > 4:
        xx, yy, zz = x * x, y * y, z * z
        r = (r + C2[0] * x * y * sh[:, 4] + C2[1] * y * z * sh[:, 5] + C2[2] * (2 * zz - xx - yy) * sh[:, 6]
             + C2[3] * x * z * sh[:, 7] + C2[4] * (xx - yy) * sh[:, 8])
    if k > 9:
        r = (r + C3[0] * y * (3 * xx - yy) * sh[:, 9] + C3[1] * x * y * z * sh[:, 10]
             + C3[2] * y * (4 * zz - xx - yy) * sh[:, 11] + C3[3] * z * (2 * zz - 3 * xx - 3 * yy) * sh[:, 12]
             + C3[4] * x * (4 * zz - xx - yy) * sh[:, 13] + C3[5] * z * (xx - yy) * sh[:, 14]
             + C3[6] * x * (xx - 3 * yy) * sh[:, 15])
    return np.maximum(r + 0.5, 0.0)


def quat_to_matrix(q) -> np.ndarray:
    """Rotation matrices (N, 3, 3) of quaternions (N, 4) = (w, x, y, z), normalised first."""
    q = np.asarray(q, np.float64)
    q = q / np.linalg.norm(q, axis=1, keepdims=True)
    w, x, y, z = q.T
    return np.stack([
        np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
        np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
        np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
    ], 1)


def project(cloud: SplatCloud, view_proj, eye, width, height) -> dict:
    """Per-splat screen quantities (all (N, ...) float64): visible, uv, depth, cov2d, conic, radius,
    colour, opacity. Culled splats have visible False (their other entries are meaningless)."""
    vp = np.asarray(view_proj, np.float64)
    mu = cloud.positions.astype(np.float64)
    n = mu.shape[0]
    clip = np.concatenate([mu, np.ones((n, 1))], 1) @ vp.T
    w = clip[:, 3]
    visible = (w > 0) & (np.abs(clip[:, 2]) <= w)
    ws = np.where(visible, w, 1.0)
    uv = np.stack([(clip[:, 0] / ws + 1) * width / 2, (clip[:, 1] / ws + 1) * height / 2], 1)
    depth = clip[:, 2] / ws

    s2 = np.exp(2.0 * cloud.log_scales.astype(np.float64))
    rot = quat_to_matrix(cloud.rotations)
    cov3d = np.einsum("nij,nj,nkj->nik", rot, s2, rot)
    cx = np.clip(clip[:, 0], -CLIP_GUARD * ws, CLIP_GUARD * ws)
    cy = np.clip(clip[:, 1], -CLIP_GUARD * ws, CLIP_GUARD * ws)
    row0 = (width / 2) * (vp[0, :3] * ws[:, None] - cx[:, None] * vp[3, :3]) / (ws ** 2)[:, None]
    row1 = (height / 2) * (vp[1, :3] * ws[:, None] - cy[:, None] * vp[3, :3]) / (ws ** 2)[:, None]
    jac = np.stack([row0, row1], 1)
    cov2d = np.einsum("nai,nij,nbj->nab", jac, cov3d, jac) + LOW_PASS * np.eye(2)
    a, b, c = cov2d[:, 0, 0], cov2d[:, 0, 1], cov2d[:, 1, 1]
    det = a * c - b * b
    visible &= det > 0
    dets = np.where(visible, det, 1.0)
    conic = np.stack([np.stack([c, -b], -1), np.stack([-b, a], -1)], 1) / dets[:, None, None]
    m = (a + c) / 2
    lam = m + np.sqrt(np.maximum(0.1, m * m - det))
    radius = np.ceil(3 * np.sqrt(lam))

    d = mu - np.asarray(eye, np.float64)
    norm = np.linalg.norm(d, axis=1, keepdims=True)
    d = np.divide(d, norm, out=np.zeros_like(d), where=norm > 0)
    colour = sh_colour(cloud.sh, d)
    opacity = 1.0 / (1.0 + np.exp(-cloud.opacity_logits.astype(np.float64)))
    return dict(visible=visible, uv=uv, depth=depth, cov2d=cov2d, conic=conic, radius=radius,
                colour=colour, opacity=opacity)


def sample_positions(width, height, ss=1) -> np.ndarray:
    """Screen positions (H, W, ss*ss, 2) of every sample, y up; pixel row 0 is the top."""
    sub = (np.arange(ss) + 0.5) / ss
    i = np.arange(width)[None, :, None, None] + sub[None, None, None, :]  # (1, W, 1, ss)
    j = np.arange(height)[:, None, None, None]
    v = (height - 1 - j) + sub[None, None, :, None]  # (H, 1, ss, 1): sub-rows from the bottom
    u, v = np.broadcast_arrays(i, v)
    shape = (height, width, ss, ss)
    return np.stack([np.broadcast_to(u, shape), np.broadcast_to(v, shape)], -1).reshape(height, width, ss * ss, 2)


def _composite(cloud, view_proj, eye, width, height, background, ss):
    """(image (H, W, 3), contributes (N, H, W) bool)."""
    pr = project(cloud, view_proj, eye, width, height)
    q = sample_positions(width, height, ss)  # (H, W, S, 2)
    n = len(cloud)
    colour_acc = np.zeros(q.shape[:3] + (3,))
    trans = np.ones(q.shape[:3])
    active = np.ones(q.shape[:3], bool)
    contributes = np.zeros((n, height, width), bool)
    order = np.lexsort((np.arange(n), pr["depth"]))  # by depth, ties by index
    for i in order:
        if not pr["visible"][i]:
            continue
        du = q[..., 0] - pr["uv"][i, 0]
        dv = q[..., 1] - pr["uv"][i, 1]
        r = pr["radius"][i]
        inside = (np.abs(du) <= r) & (np.abs(dv) <= r)
        con = pr["conic"][i]
        p = -0.5 * (con[0, 0] * du * du + 2 * con[0, 1] * du * dv + con[1, 1] * dv * dv)
        alpha = np.minimum(ALPHA_MAX, pr["opacity"][i] * np.exp(np.minimum(p, 0.0)))
        take = active & inside & (p <= 0) & (alpha >= ALPHA_MIN)
        if not take.any():
            continue
        a = np.where(take, alpha, 0.0)
        colour_acc += (trans * a)[..., None] * pr["colour"][i]
        trans *= 1 - a
        active &= ~(take & (trans < T_MIN))
        contributes[i] = take.any(axis=2)
    image = colour_acc + trans[..., None] * np.asarray(background, np.float64)
    return image.mean(axis=2), contributes


def fragment_count(cloud: SplatCloud, view_proj, eye, width, height, ss=1) -> int:
    """Fragments a render records (every (sample, splat) in the closed square with p <= 0 and
    alpha >= 1/255, before compositing cuts any): what the deep id buffer's lists must hold."""
    pr = project(cloud, view_proj, eye, width, height)
    q = sample_positions(width, height, ss)
    total = 0
    for i in np.nonzero(pr["visible"])[0]:
        du, dv = q[..., 0] - pr["uv"][i, 0], q[..., 1] - pr["uv"][i, 1]
        r, con = pr["radius"][i], pr["conic"][i]
        p = -0.5 * (con[0, 0] * du * du + 2 * con[0, 1] * du * dv + con[1, 1] * dv * dv)
        alpha = np.minimum(ALPHA_MAX, pr["opacity"][i] * np.exp(np.minimum(p, 0.0)))
        total += int(((np.abs(du) <= r) & (np.abs(dv) <= r) & (p <= 0) & (alpha >= ALPHA_MIN)).sum())
    return total


def render_splats(cloud: SplatCloud, view_proj, eye, width, height, background=(0.0, 0.0, 0.0), ss=1):
    """The (H, W, 3) float64 image of docs/splats.md; row 0 is the top of the picture."""
    return _composite(cloud, view_proj, eye, width, height, background, ss)[0]


def contributors(cloud: SplatCloud, view_proj, eye, width, height, ss=1) -> list[list[list[int]]]:
    """[row][col] -> sorted indices of the splats composited in any of the pixel's samples."""
    contrib = _composite(cloud, view_proj, eye, width, height, (0.0, 0.0, 0.0), ss)[1]
    out = [[[] for _ in range(width)] for _ in range(height)]
    for i, j, k in zip(*np.nonzero(contrib.transpose(1, 2, 0))):
        out[i][j].append(int(k))
    return out

