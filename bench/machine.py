"""The machine a benchmark ran on, for bench/RESULTS.md (no torch import: light benches use it too)."""
from __future__ import annotations

import os
import platform
import subprocess


def cpu_model() -> str:
    """lscpu's model name, whether it has AVX-512 BF16, and the core count."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        name = next(line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name"))
        flags = out.split("Flags:", 1)[1] if "Flags:" in out else ""
        return f"{name}{' (AVX-512 BF16)' if 'avx512_bf16' in flags else ''}, {os.cpu_count()} cores"
    except (OSError, StopIteration):
        return platform.processor() or "unknown CPU"
