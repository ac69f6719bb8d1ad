"""Property prediction pane (CHGNet ONNX and composition models)."""
