"""Micrograph segmentation: annotations, measurements and their exports."""
