"""Stand-ins for the few timm and torchvision pieces that `mobile_sam` and `segment_anything` import.

torchvision's PyPI wheel cannot run with the CPU torch, and `pip install timm` drags in a CUDA
torch, so neither is installed. The model code only needs: timm's DropPath,
trunc_normal_, to_2tuple and register_model (TinyViT), torchvision's resize/to_pil_image
(ResizeLongestSide.apply_image, i.e. PIL bilinear) and batched_nms/box_area (imported by the
automatic mask generator). `install()` puts these into `sys.modules` only where the real package
cannot be imported, so a working timm/torchvision always wins.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Iterable


def _drop_path_module():
    import torch
    from torch import nn

    class DropPath(nn.Module):
        """Stochastic depth per sample; the identity in eval mode (all that export needs)."""

        def __init__(self, drop_prob: float | None = 0.0, scale_by_keep: bool = True):
            super().__init__()
            self.drop_prob = drop_prob or 0.0
            self.scale_by_keep = scale_by_keep

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if self.drop_prob == 0.0 or not self.training:
                return x
            keep = 1.0 - self.drop_prob
            shape = (x.shape[0],) + (1,) * (x.ndim - 1)
            mask = x.new_empty(shape).bernoulli_(keep)
            if self.scale_by_keep and keep > 0.0:
                mask.div_(keep)
            return x * mask

    def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0):
        return nn.init.trunc_normal_(tensor, mean=mean, std=std, a=a, b=b)

    def to_2tuple(x):
        if isinstance(x, Iterable) and not isinstance(x, str):
            return tuple(x)
        return (x, x)

    return DropPath, trunc_normal_, to_2tuple


def _module(name: str, **attributes: object) -> types.ModuleType:
    """A module object holding `attributes` (a ModuleType declares none of them)."""
    module = types.ModuleType(name)
    vars(module).update(attributes)
    return module


def _timm_modules() -> dict[str, types.ModuleType]:
    drop_path, trunc_normal_, to_2tuple = _drop_path_module()
    layers = _module(
        "timm.models.layers", DropPath=drop_path, trunc_normal_=trunc_normal_, to_2tuple=to_2tuple
    )
    registry = _module("timm.models.registry", register_model=lambda fn: fn)
    models = _module("timm.models", layers=layers, registry=registry)
    timm = _module("timm", models=models)
    return {
        "timm": timm,
        "timm.models": models,
        "timm.models.layers": layers,
        "timm.models.registry": registry,
    }


def to_pil_image(array):
    """HxW or HxWxC uint8 → PIL image, as torchvision does for numpy input."""
    import numpy as np
    from PIL import Image

    array = np.asarray(array)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    return Image.fromarray(array)


def resize(image, size, interpolation=None, max_size=None, antialias=True):
    """torchvision's resize of a PIL image to (h, w): PIL bilinear, which always antialiases."""
    from PIL import Image

    h, w = size
    return image.resize((int(w), int(h)), Image.Resampling.BILINEAR)


def box_area(boxes):
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def _iou(box, boxes):
    import torch

    x0 = torch.maximum(box[0], boxes[:, 0])
    y0 = torch.maximum(box[1], boxes[:, 1])
    x1 = torch.minimum(box[2], boxes[:, 2])
    y1 = torch.minimum(box[3], boxes[:, 3])
    inter = (x1 - x0).clamp(min=0) * (y1 - y0).clamp(min=0)
    return inter / (box_area(box[None])[0] + box_area(boxes) - inter)


def batched_nms(boxes, scores, idxs, iou_threshold: float):
    """Greedy NMS per category (plain torch; slow, but only the torch reference path uses it)."""
    import torch

    if boxes.numel() == 0:
        return torch.empty((0,), dtype=torch.int64, device=boxes.device)
    offsets = idxs.to(boxes) * (boxes.max() + 1)
    shifted = boxes + offsets[:, None]
    order = torch.argsort(scores, descending=True)
    keep = []
    while order.numel() > 0:
        i = order[0]
        keep.append(i)
        if order.numel() == 1:
            break
        rest = order[1:]
        order = rest[_iou(shifted[i], shifted[rest]) <= iou_threshold]
    return torch.stack(keep)


def _torchvision_modules() -> dict[str, types.ModuleType]:
    functional = _module(
        "torchvision.transforms.functional", resize=resize, to_pil_image=to_pil_image
    )
    transforms = _module("torchvision.transforms", functional=functional)
    boxes = _module("torchvision.ops.boxes", batched_nms=batched_nms, box_area=box_area)
    ops = _module("torchvision.ops", boxes=boxes, batched_nms=batched_nms, box_area=box_area)
    torchvision = _module("torchvision", transforms=transforms, ops=ops)
    return {
        "torchvision": torchvision,
        "torchvision.transforms": transforms,
        "torchvision.transforms.functional": functional,
        "torchvision.ops": ops,
        "torchvision.ops.boxes": boxes,
    }


def _importable(name: str) -> bool:
    try:
        importlib.import_module(name)
        return True
    except Exception:  # noqa: BLE001 - torchvision with a CPU torch fails with a RuntimeError
        for key in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
            del sys.modules[key]
        return False


def install() -> list[str]:
    """Put the stand-ins into sys.modules where the real package is missing; returns their names."""
    installed = []
    for name, build in (("timm", _timm_modules), ("torchvision", _torchvision_modules)):
        if getattr(sys.modules.get(name), "__matlens_stub__", False) or _importable(name):
            continue
        modules = build()
        vars(modules[name])["__matlens_stub__"] = True
        sys.modules.update(modules)
        installed.append(name)
    return installed
