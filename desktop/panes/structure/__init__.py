"""The Structures pane: VTK drawing of `inference.structures` scenes (VTK stays in desktop)."""
