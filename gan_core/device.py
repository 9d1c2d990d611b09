"""Device and precision selection."""
import contextlib

import torch


def select_device(name: str = "auto") -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for but no CUDA GPU is available; use --device auto or cpu")
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ValueError("device 'mps' was asked for but Apple MPS is not available; use --device auto or cpu")
    return torch.device(name)


def bf16_supported(device: torch.device) -> bool:
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        return bool(getattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)())
    return False


def use_bf16(setting: str, device: torch.device) -> bool:
    """Whether a run trains under bf16 autocast: `setting` is TrainConfig.bf16 (auto, on or off).
    ValueError when on is asked for where the device lacks bf16."""
    if setting == "on" and not bf16_supported(device):
        raise ValueError(f"bf16 autocast was asked for (--bf16 on) but {device} does not support bf16 (CPUs need "
                         f"AVX-512 BF16); use --bf16 auto or off")
    return setting == "on" or (setting == "auto" and bf16_supported(device))


def autocast(device: torch.device, enabled: bool):
    """bf16 autocast where asked for; a no-op context otherwise."""
    if not enabled:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
