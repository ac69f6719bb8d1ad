"""MatLens science and models. Never imports Qt: it runs from scripts, the CLI and tests."""

import os

# The labs are offline: no library may try a model hub, ever.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

__version__ = "0.1.0"
