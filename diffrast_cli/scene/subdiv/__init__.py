"""Catmull-Clark subdivision surfaces (issue 13, in progress): the halfedge refinement
(halfedge.py). The scene kind, its GPU passes and export are not built yet."""
