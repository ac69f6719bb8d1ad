"""Set-up-time code that trains MatLens's own models (imports torch and scikit-learn).

Outside the run-time: the installed app, its wheel and its bundle never contain this package,
and import-linter forbids `desktop` and `inference` to import it. Exporters that turn published
weights into ONNX live in `inference.export`; what is trained here from data is written as
ONNX and cards into resources/models.
"""
