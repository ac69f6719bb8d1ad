"""Crystal structures: reading (pymatgen), symmetry, XRD and a backend-neutral 3D scene.

Nothing here imports Qt or VTK: `desktop.panes.structure` draws the `Scene` built here, and the
CLI (`matlens structure ...`) uses the same functions.
"""
