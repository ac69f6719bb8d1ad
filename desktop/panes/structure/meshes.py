"""Numpy meshes the impostor mappers cannot draw: sphere wedges for partly occupied sites and
the visible edges of polyhedra. No VTK here, so the geometry is unit-testable."""

from __future__ import annotations

import numpy as np

VACANCY_COLOR = (236, 236, 236)  # the empty part of a partly occupied site, as VESTA draws it


def wedge_template(
    fractions: list[tuple[float, tuple[int, int, int]]], n_lat: int = 12, n_lon: int = 32
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A unit sphere cut into longitudinal wedges, one per (fraction, colour); the rest of the
    circle, when the fractions sum below 1, is a pale vacancy wedge.

    Returns vertices (v, 3) (also the normals), triangles (t, 3) and colours per vertex (v, 3).
    """
    total = sum(f for f, _ in fractions)
    parts = list(fractions)
    if total < 1 - 1e-6:
        parts.append((1 - total, VACANCY_COLOR))
    total = sum(f for f, _ in parts) or 1.0
    phi = np.linspace(0, np.pi, n_lat + 1)
    vertices, triangles, colors = [], [], []
    start = 0.0
    offset = 0
    for fraction, color in parts:
        span = 2 * np.pi * fraction / total
        steps = max(2, int(np.ceil(n_lon * fraction / total)))
        theta = np.linspace(start, start + span, steps + 1)
        start += span
        p, t = np.meshgrid(phi, theta, indexing="ij")
        v = np.stack([np.sin(p) * np.cos(t), np.sin(p) * np.sin(t), np.cos(p)], -1).reshape(-1, 3)
        rows, cols = n_lat + 1, steps + 1
        r, c = np.meshgrid(np.arange(rows - 1), np.arange(cols - 1), indexing="ij")
        a = (r * cols + c).ravel()
        b, d, e = a + 1, a + cols, a + cols + 1
        tris = np.concatenate([np.stack([a, d, e], 1), np.stack([a, e, b], 1)]) + offset
        vertices.append(v)
        triangles.append(tris)
        colors.append(np.tile(np.asarray(color, np.uint8), (len(v), 1)))
        offset += len(v)
    return np.concatenate(vertices), np.concatenate(triangles), np.concatenate(colors)


def replicate(
    template: tuple[np.ndarray, np.ndarray, np.ndarray], centers: np.ndarray, radii: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The template placed at every centre: vertices, normals, triangles, colours."""
    v, t, c = template
    n = len(centers)
    vertices = (centers[:, None, :] + radii[:, None, None] * v[None]).reshape(-1, 3)
    normals = np.tile(v, (n, 1))
    triangles = (t[None] + (np.arange(n) * len(v))[:, None, None]).reshape(-1, 3)
    colors = np.tile(c, (n, 1))
    return vertices, normals, triangles, colors


def feature_edges(vertices: np.ndarray, triangles: np.ndarray, degrees: float = 1.0) -> np.ndarray:
    """(k, 2) vertex pairs of the edges where faces meet at an angle: a cube shows 12 edges,
    not the diagonals of its triangulated faces."""
    if len(triangles) == 0:
        return np.zeros((0, 2), np.int64)
    p = vertices[triangles]
    normals = np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])
    normals /= np.linalg.norm(normals, axis=1, keepdims=True) + 1e-12
    edges = np.concatenate([triangles[:, [0, 1]], triangles[:, [1, 2]], triangles[:, [2, 0]]])
    owner = np.tile(np.arange(len(triangles)), 3)
    edges = np.sort(edges, axis=1)
    order = np.lexsort((edges[:, 1], edges[:, 0]))
    edges, owner = edges[order], owner[order]
    same = np.all(edges[1:] == edges[:-1], axis=1)
    keep = np.ones(len(edges), bool)
    # An edge shared by two faces is kept once, and only if the faces are not coplanar (hull
    # triangles are not consistently wound, so a normal may point either way).
    cos = np.abs(np.einsum("ij,ij->i", normals[owner[1:]], normals[owner[:-1]]))
    flat = same & (cos > np.cos(np.radians(degrees)))
    keep[1:][same] = False
    keep[:-1][flat] = False
    return edges[keep]
