"""Structure rendering and loading figures, printed as `name value unit` lines.

    xvfb-run -a -s "-screen 0 1280x1024x24" .venv/bin/python benchmarks/structure_render.py

1. Frame time for the same 5,000-atom supercell (SrTiO3 10×10×10) drawn by MatLens (one impostor
   prop for all atoms) and by pymatgen's StructureVis (one actor per atom), as a ratio in one run.
2. Frames per second for a 100,000-atom supercell (NaCl 23×23×24) while the camera rotates:
   full detail (atoms and 300,000 bonds) and the level of detail the pane uses while rotating.
   Frames "while rotating" are rendered as the pane renders them then: without FXAA.
3. Load time of a 1,000-site CIF: the time-limited child-process path (cold and warm), in-process
   parsing, and plain pymatgen for reference.

Without a display it falls back to OSMesa offscreen windows (same software OpenGL).
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

warnings.simplefilter("ignore")


def _structures():
    from pymatgen.core import Lattice, Structure

    srtio3 = Structure.from_spacegroup(
        "Pm-3m", Lattice.cubic(3.905), ["Sr", "Ti", "O"], [[0, 0, 0], [0.5] * 3, [0.5, 0.5, 0]]
    )
    nacl = Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(5.6402), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]
    )
    return srtio3, nacl


def _window(size, offscreen, multisamples: int | None = 0):
    """A window as MatLens sets it up (no MSAA); multisamples=None keeps VTK's default (8×)."""
    from vtkmodules.vtkRenderingCore import vtkRenderer, vtkRenderWindow

    renderer = vtkRenderer()
    window = vtkRenderWindow()
    window.SetOffScreenRendering(int(offscreen))
    if multisamples is not None:
        window.SetMultiSamples(multisamples)
    window.SetSize(*size)
    window.AddRenderer(renderer)
    return renderer, window


def _frame_times(renderer, window, frames: int, step: float = 360 / 72) -> np.ndarray:
    """Seconds per frame while the camera turns; glFinish makes software GL finish each frame."""
    camera = renderer.GetActiveCamera()
    window.Render()
    window.WaitForCompletion()
    times = []
    for _ in range(frames):
        start = time.perf_counter()
        camera.Azimuth(step)
        window.Render()
        window.WaitForCompletion()
        times.append(time.perf_counter() - start)
    return np.asarray(times)


def _matlens_scene(structure, supercell, style, boundary=True):
    from inference.structures.bonds import find_bonds
    from inference.structures.scene import SceneOptions, build_scene

    options = SceneOptions(style=style, supercell=supercell, boundary_images=boundary)
    return build_scene(structure, find_bonds(structure), options)


def _matlens_frames(scene, size, offscreen, frames, detail=True, moving=True):
    """Frame times as the pane renders them: while the view turns (`moving`) FXAA is off, as in
    StructureView; a still frame gets FXAA."""
    from desktop.panes.structure.actors import SceneProps
    from desktop.panes.structure.camera import place_camera, setup_renderer

    renderer, window = _window(size, offscreen)
    setup_renderer(renderer)
    renderer.SetUseFXAA(not moving)
    start = time.perf_counter()
    props = SceneProps(scene)
    for prop in props.props:
        renderer.AddViewProp(prop)
    place_camera(renderer, scene)
    props.set_detail(detail)
    window.Render()
    window.WaitForCompletion()
    first = time.perf_counter() - start
    times = _frame_times(renderer, window, frames)
    window.Finalize()
    return first, times


def _like_structurevis(scene, structure):
    """The same scene with StructureVis's sphere radii (0.2 Å + 0.002 × ionic radius)."""
    from dataclasses import replace

    radii = []
    for site in structure:
        ionic = sum(occ * float(sp.average_ionic_radius) for sp, occ in site.species.items())
        radii.append(0.2 + 0.002 * ionic)
    radii = np.asarray(radii, np.float32)[scene.atoms.site]
    return replace(scene, atoms=replace(scene.atoms, radii=radii))


def bench_5000(size, offscreen, frames) -> None:
    from pymatgen.vis.structure_vtk import StructureVis

    from inference.structures.bonds import find_bonds

    srtio3, _ = _structures()
    reps = (10, 10, 10)
    find_bonds(srtio3)  # import CrystalNN once, outside the timing
    # The same 5,000 atoms for both: no boundary images, no bonds (StructureVis draws none).
    start = time.perf_counter()
    scene = _matlens_scene(srtio3, reps, "space-filling", boundary=False)
    build = time.perf_counter() - start
    same = _like_structurevis(scene, srtio3)
    first, ours = _matlens_frames(same, size, offscreen, frames)
    print(f"matlens_5000_atoms {len(scene.atoms)} atoms")
    print(f"matlens_5000_scene_build {build * 1000:.1f} ms")
    print(f"matlens_5000_first_frame {first * 1000:.1f} ms")
    print(f"matlens_5000_frame {np.median(ours) * 1000:.2f} ms (same spheres as StructureVis)")
    _, still = _matlens_frames(same, size, offscreen, max(3, frames // 3), moving=False)
    print(
        f"matlens_5000_still_frame {np.median(still) * 1000:.2f} ms (with FXAA, when the view stops)"
    )
    bonded = _matlens_scene(srtio3, reps, "ball-and-stick", boundary=False)
    _, styled = _matlens_frames(bonded, size, offscreen, frames)
    print(
        f"matlens_5000_ball_and_stick_frame {np.median(styled) * 1000:.2f} ms "
        f"(MatLens radii, {len(bonded.bonds)} bonds)"
    )
    renderer, window = _window(size, offscreen)
    floor = _frame_times(renderer, window, frames)
    window.Finalize()
    print(f"empty_frame_floor {np.median(floor) * 1000:.2f} ms (clear + present, no geometry)")

    supercell = srtio3 * reps
    theirs = {}
    for label, multisamples in (("as shipped, 8x MSAA", None), ("MSAA off like MatLens", 0)):
        vis = StructureVis(show_unit_cell=True, show_bonds=False, show_polyhedron=False)
        vis.ren_win.SetOffScreenRendering(int(offscreen))
        vis.ren_win.SetSize(*size)
        if multisamples is not None:
            vis.ren_win.SetMultiSamples(multisamples)
        start = time.perf_counter()
        vis.set_structure(supercell)
        vis.ren_win.Render()
        vis.ren_win.WaitForCompletion()
        first_vis = time.perf_counter() - start
        times = _frame_times(vis.ren, vis.ren_win, max(3, frames // 3))
        theirs[label] = float(np.median(times))
        actors = vis.ren.GetActors().GetNumberOfItems()
        print(f"pymatgen_structurevis_5000 ({label}) {actors} actors")
        print(f"pymatgen_structurevis_5000_first_frame ({label}) {first_vis * 1000:.1f} ms")
        print(f"pymatgen_structurevis_5000_frame ({label}) {theirs[label] * 1000:.2f} ms")
        vis.ren_win.Finalize()
    mine = float(np.median(ours))
    for label, value in theirs.items():
        print(f"ratio_5000_frame_time ({label}) {value / mine:.1f} x (same spheres, same window)")
    shipped = theirs["as shipped, 8x MSAA"]
    print(
        f"ratio_5000_frame_time_ball_and_stick {shipped / np.median(styled):.1f} x "
        "(MatLens also draws 5,700 bonds)"
    )


def bench_100k(size, offscreen, frames) -> None:
    from inference.structures.bonds import find_bonds

    _, nacl = _structures()
    find_bonds(nacl)  # import CrystalNN once, outside the timing
    start = time.perf_counter()
    scene = _matlens_scene(nacl, (23, 23, 24), "ball-and-stick")
    build = time.perf_counter() - start
    print(f"matlens_100k_atoms {len(scene.atoms)} atoms, {len(scene.bonds)} bonds")
    print(f"matlens_100k_scene_build {build * 1000:.0f} ms")
    first, full = _matlens_frames(scene, size, offscreen, frames)
    print(f"matlens_100k_first_frame {first * 1000:.0f} ms (building the GPU buffers)")
    print(f"matlens_100k_fps_full_detail {1 / np.median(full):.1f} fps")
    _, lod = _matlens_frames(scene, size, offscreen, frames, detail=False)
    print(f"matlens_100k_fps_while_rotating {1 / np.median(lod):.1f} fps (bonds hidden: LOD)")
    atoms_only = _matlens_scene(nacl, (23, 23, 24), "space-filling")
    _, sf = _matlens_frames(atoms_only, size, offscreen, frames)
    print(f"matlens_100k_fps_space_filling {1 / np.median(sf):.1f} fps")


def bench_load() -> None:
    from pymatgen.io.cif import CifParser, CifWriter

    from inference.structures.io import ReadOptions, load_structures
    from inference.structures.prepared import prepare
    from inference.structures.reader import read_structures
    from inference.structures.scene import build_scene
    from inference.structures.timelimit import default_runner

    srtio3, _ = _structures()
    big = srtio3 * (5, 5, 8)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "srtio3_1000.cif"
        CifWriter(big).write_file(path)  # P1: all 1,000 sites listed
        print(f"cif_1000_sites {len(big)} sites, {path.stat().st_size // 1024} KiB")
        default_runner().close()
        start = time.perf_counter()
        loaded = load_structures(path)
        print(f"load_1000_cold {(time.perf_counter() - start) * 1000:.0f} ms (starts the child)")
        warm = []
        for _ in range(3):
            start = time.perf_counter()
            load_structures(path)
            warm.append(time.perf_counter() - start)
        print(f"load_1000_warm {np.median(warm) * 1000:.0f} ms (time-limited child process)")
        start = time.perf_counter()
        read_structures(path, ReadOptions(timeout_s=0))
        print(f"load_1000_in_process {(time.perf_counter() - start) * 1000:.0f} ms")
        start = time.perf_counter()
        CifParser(path).parse_structures(primitive=False)
        print(f"pymatgen_cifparser_1000 {(time.perf_counter() - start) * 1000:.0f} ms")
        start = time.perf_counter()
        prepared = prepare(loaded.blocks[0])
        scene = build_scene(prepared.structure, prepared.neighbors)
        print(
            f"prepare_and_scene_1000 {(time.perf_counter() - start) * 1000:.0f} ms "
            f"({prepared.neighbors.method}, {len(scene.atoms)} atoms, {len(scene.bonds)} bonds)"
        )
        default_runner().close()


def main() -> None:
    import os

    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--size", default="1000x800")
    parser.add_argument("--only", choices=["5000", "100k", "load"])
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    offscreen = not os.environ.get("DISPLAY")
    if offscreen:
        from desktop.panes.structure.offscreen import choose_opengl_window

        choose_opengl_window()
    import vtkmodules.vtkRenderingOpenGL2  # noqa: F401

    print(f"display {'Xvfb/X11' if not offscreen else 'offscreen OSMesa'}, window {args.size}")
    if args.only in (None, "5000"):
        bench_5000(size, offscreen, args.frames)
    if args.only in (None, "100k"):
        bench_100k(size, offscreen, args.frames)
    if args.only in (None, "load"):
        bench_load()


if __name__ == "__main__":
    main()
