"""Set-up guard: the plain `onnxruntime` wheel must never sit next to onnxruntime-gpu.

They share one folder; with both installed the CUDA provider vanishes, and uninstalling
either breaks the import. Repair by
removing the plain one and reinstalling the GPU build without dependencies.
"""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata


def main() -> int:
    try:
        metadata.version("onnxruntime")
    except metadata.PackageNotFoundError:
        return 0
    print("set-up: plain onnxruntime found next to onnxruntime-gpu; repairing…", flush=True)
    pip = [sys.executable, "-m", "pip", "-q"]
    subprocess.run([*pip, "uninstall", "-y", "onnxruntime"], check=True)
    version = metadata.version("onnxruntime-gpu")
    subprocess.run(
        [*pip, "install", "--force-reinstall", "--no-deps", f"onnxruntime-gpu=={version}"],
        check=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
