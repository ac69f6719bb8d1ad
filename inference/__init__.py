"""MatLens science and models. Never imports Qt: it runs from scripts, the CLI and tests.

Importing this package is what keeps MatLens offline, so every entry point (the window, the CLI,
`python -m inference.export`, the bundle, benchmarks, tests) imports it before any library that
could reach the network. Child processes inherit the environment set here.
"""

import os
import sys

# Set, never defaulted: the labs are offline and no user setting may turn a download or a
# telemetry upload back on.
OFFLINE_ENVIRONMENT = {
    # No library may try a model hub, ever.
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    # onnxruntime-gpu 1.31 carries Microsoft 1DS telemetry: `import onnxruntime` writes
    # ~/.cache/Microsoft/DeveloperTools/.onnxruntime/onnxruntime.db and about 10 s later looks up
    # mobile.events.data.microsoft.com. Only this variable, present before onnxruntime is
    # imported, stops both; onnxruntime.disable_telemetry_events() does not.
    "ORT_DISABLE_TELEMETRY": "1",
}
os.environ.update(OFFLINE_ENVIRONMENT)

# If someone imported onnxruntime before MatLens, its telemetry already started: the doctor says so.
ONNXRUNTIME_IMPORTED_EARLY = "onnxruntime" in sys.modules

__version__ = "0.1.0"
