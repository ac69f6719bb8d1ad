"""MatLens' Qt layer: it adapts `inference` to widgets and threads and owns no science."""
