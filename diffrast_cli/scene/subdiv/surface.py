"""A cage refined L levels: the topology and stencil tables the GPU passes read, the per-corner
UVs, and the same surface in numpy (export, metrics, tests, references).

Refined mesh (level L >= 1): every face is a quad; quad q is the halfedges 4q..4q+3 (corners in
order, counter-clockwise), drawn as the triangles 2q = corners (0, 1, 2) and 2q + 1 = (0, 2, 3).
Quad q lies in the cage face of cage halfedge q >> 2 (L - 1).

Which control points a sample depends on: its quad's corners are points of level L, each a
combination of control points (the composed stencil); with normals per copy (smooth shading,
displacement) also the corners of the quads around them. The kind gathers the gradient of
control point j over every cage face whose samples depend on j (:meth:`control_faces`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...io.mesh_data import MeshData
from . import halfedge as he
from . import stencils as st
from .cage import Cage

TRIANGLE_CORNERS = np.array([[0, 1, 2], [0, 2, 3]], np.int64)   # quad corners of its two triangles


@dataclass
class RefinedSurface:
    cage: Cage
    levels: int
    cage_mesh: he.Halfedges
    final: he.Halfedges
    stencils: list            # per level: st.Stencil from the previous level's points
    composed: st.Stencil      # final points from the control points
    corner_uv: np.ndarray | None = None      # (4Q, 2) per final halfedge
    _normal_csr: tuple | None = field(default=None, repr=False)

    @classmethod
    def build(cls, cage: Cage, levels: int, creases=()) -> "RefinedSurface":
        m = he.from_polygons(cage.faces, len(cage.positions), creases)
        cage_mesh, tables, uv = m, [], cage.uvs
        for _ in range(levels):
            tables.append(st.level_stencil(m))
            if uv is not None:
                uv = st.refine_corner_values(m, uv)
            m = he.refine_topology(m)
        composed = tables[0]
        for t in tables[1:]:
            composed = st.compose(t, composed)
        return cls(cage, levels, cage_mesh, m, tables, composed, None if uv is None else uv.astype(np.float32))

    # -- sizes and tables -----------------------------------------------------

    @property
    def quads(self) -> np.ndarray:
        return he.quads(self.final)

    @property
    def vertices(self) -> int:
        return self.final.vertices

    @property
    def quad_count(self) -> int:
        return self.final.faces

    def quad_cage_face(self) -> np.ndarray:
        """(Q,) the cage face of each quad."""
        return self.cage_mesh.face[he.cage_halfedge(np.arange(self.quad_count), self.levels - 1)]

    def triangles(self) -> np.ndarray:
        """(2Q, 3) final halfedges of the corners of each triangle."""
        q = 4 * np.arange(self.quad_count)[:, None, None] + TRIANGLE_CORNERS[None]
        return q.reshape(-1, 3)

    def vertex_quads(self) -> tuple[np.ndarray, np.ndarray]:
        if self._normal_csr is None:
            self._normal_csr = st.vertex_quads(self.quads, self.vertices)
        return self._normal_csr

    # -- numpy surface ----------------------------------------------------------

    def points(self, control: np.ndarray) -> np.ndarray:
        """(V_L, 3) refined points of the control points (V, 3)."""
        return self.composed.apply(np.asarray(control, np.float64).reshape(-1, 3))

    def vertex_normals(self, points: np.ndarray) -> np.ndarray:
        """Unit normals of the refined vertices: the sum over their quads of the cross product of
        the quad's diagonals (what subdiv_normals.comp computes)."""
        quads = self.quads
        p = np.asarray(points, np.float64)
        qn = np.cross(p[quads[:, 2]] - p[quads[:, 0]], p[quads[:, 3]] - p[quads[:, 1]])
        n = np.zeros_like(p)
        for k in range(4):
            np.add.at(n, quads[:, k], qn)
        length = np.linalg.norm(n, axis=1, keepdims=True)
        return np.where(length > 0, n / np.where(length > 0, length, 1.0), np.array([0.0, 0.0, 1.0]))

    def vertex_uv(self) -> np.ndarray:
        """(V_L, 2) the UV of each refined vertex's first corner: where its displacement is read."""
        first = np.zeros(self.vertices, np.int64)
        first[self.final.vert[::-1]] = np.arange(self.final.count)[::-1]
        return self.corner_uv[first]

    def displaced_points(self, control: np.ndarray, height=None, strength: float = 0.0,
                         midlevel: float = 0.5) -> np.ndarray:
        """(V_L, 3) refined points, each moved along its vertex normal by strength * (h - midlevel),
        h the height map at the vertex's UV (:meth:`vertex_uv`; one displacement per vertex: no
        cracks at UV seams)."""
        p = self.points(control)
        if height is None:
            return p
        from ..mesh.displacement import sample_map
        h = sample_map(height, self.vertex_uv())
        return p + self.vertex_normals(p) * (strength * (h - midlevel))[:, None]

    def mesh_data(self, control: np.ndarray, height=None, strength: float = 0.0, midlevel: float = 0.5,
                  name: str = "refined") -> MeshData:
        """The refined (displaced) surface as triangles over the refined vertices, per-corner UVs."""
        tris = self.triangles()
        uvs = None if self.corner_uv is None else self.corner_uv[tris].astype(np.float32)
        pos = self.displaced_points(control, height, strength, midlevel).astype(np.float32)
        return MeshData(positions=pos, faces=np.ascontiguousarray(self.final.vert[tris], np.int32), uvs=uvs,
                        normals=None, texture=None, vertex_colors=None, name=name)

    # -- what a sample depends on -------------------------------------------------

    def control_faces(self, with_normals: bool) -> tuple[np.ndarray, np.ndarray]:
        """CSR (start, cage faces) per control point: the cage faces whose samples depend on it."""
        quads = self.quads
        qface = self.quad_cage_face()
        F = self.cage_mesh.faces
        fv = np.unique(np.repeat(qface, 4) * self.vertices + quads.ravel())        # (face, vertex) pairs
        if with_normals:          # + the corners of every quad around those vertices
            start, vq = self.vertex_quads()
            f, v = fv // self.vertices, fv % self.vertices
            offs, lens = st.csr_rows(start, v)
            around = vq[offs]
            f_rep = np.repeat(f, lens)
            fv = np.unique(np.concatenate([fv, (np.repeat(f_rep, 4) * self.vertices + quads[around].ravel())]))
        f, v = fv // self.vertices, fv % self.vertices
        s = self.composed
        offs, lens = st.csr_rows(s.start, v)
        cols = s.index[offs]
        V = len(self.cage.positions)
        pairs = np.unique(cols * F + np.repeat(f, lens))                            # (control, face), sorted
        ctrl, faces = pairs // F, pairs % F
        start = np.zeros(V + 1, np.int64)
        np.add.at(start, ctrl + 1, 1)
        return np.cumsum(start).astype(np.uint32), faces.astype(np.uint32)

    # -- GPU tables -----------------------------------------------------------------

    def level_tables(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
        """The levels' stencils back to back: starts (absolute, rows + 1 per level), indices,
        weights, and per level (row base into the starts, rows, point offset of its output,
        point offset of its input or -1 for the control points)."""
        starts, index, weight, levels = [], [], [], []
        row_base = nnz = 0
        out_offset = 0
        in_offset = -1
        for t in self.stencils:
            starts.append(t.start + nnz)
            index.append(t.index)
            weight.append(t.weight)
            levels.append((row_base, t.rows, out_offset, in_offset))
            row_base += t.rows + 1
            nnz += len(t.index)
            in_offset = out_offset
            out_offset += t.rows
        return (np.concatenate(starts).astype(np.uint32), np.concatenate(index).astype(np.uint32),
                np.concatenate(weight).astype(np.float32), levels)

    @property
    def points_per_copy(self) -> int:
        return sum(t.rows for t in self.stencils)

    @property
    def final_offset(self) -> int:
        return self.points_per_copy - self.stencils[-1].rows


__all__ = ["RefinedSurface", "TRIANGLE_CORNERS"]
