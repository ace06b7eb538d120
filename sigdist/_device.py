"""Devices: one meaning of ``device`` across sigdist (``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:k"``).

torch is optional: :func:`cuda_available` is False without it, and :func:`resolve_device` imports it only
when asked for a torch device.
"""

from __future__ import annotations

__all__ = ["cuda_available", "resolve_device"]


def cuda_available() -> bool:
    """True when torch is installed and sees a CUDA device."""
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def resolve_device(device):
    """The ``torch.device`` of ``"auto"`` (CUDA when present), ``"cpu"``, ``"cuda"``, ``"cuda:k"`` or a torch.device.

    A CUDA request on a machine without CUDA raises ``RuntimeError``; there is no silent CPU fallback.
    """
    try:
        import torch
    except ImportError:
        raise ImportError("a torch device needs torch: pip install \"sigdist[mc]\"") from None
    if isinstance(device, torch.device):
        dev = device
    elif isinstance(device, str):
        if device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        try:
            dev = torch.device(device)
        except RuntimeError:
            raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:k', got {device!r}") from None
    else:
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:k', got {device!r}")
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"device must be a CPU or CUDA device, got {device!r}")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device={device!r} asks for CUDA, but torch.cuda.is_available() is False here")
    return dev
