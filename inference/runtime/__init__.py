"""ONNX sessions, model cards and where files live."""
