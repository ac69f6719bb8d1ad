"""Dialogs: About and the model manager."""
