"""Micrographs: reading vendor files, calibration, display contrast."""
