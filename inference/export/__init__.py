"""torch → ONNX exporters, run at set-up time only (`make models`, the model manager's import).

The application never imports this package: at run time MatLens needs onnxruntime and numpy, not
torch. Each exporter module has `export(out_dir, progress, cancel) -> dict[str, Path]`.
"""
