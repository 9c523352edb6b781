#!/usr/bin/env bash
# The GPU checks of the training engine, run once on a lent GPU machine (see benches/README.md):
# CUDA training throughput of the zfnet backbone at 224 px, batch 64 and 128, against the same
# network in PyTorch on the same GPU, and whether the data pipeline keeps the GPU busy.
#
# Usage: benches/gpu_check.sh VITRINE_BINARY OUT_DIR
# The binary must be built with `--features cuda`. Writes OUT_DIR/gpu-check.log.
# First try (2026-11-27, H200): the CUDA runs started (catalogue prepared, "started" logged) but
# none finished its first iteration within 120-250 s while the GPU sat idle; see README. This
# version logs every 10th iteration with a timestamp and asks cubecl for its minimal autotune
# (set CUBECL_DEBUG_LOG=stdout to see its kernel compilations).
set -uo pipefail
export CUBECL_AUTOTUNE_LEVEL=${CUBECL_AUTOTUNE_LEVEL:-minimal}
bin=$1
out=$2
log=$out/gpu-check.log
mkdir -p "$out"
exec > >(tee "$log") 2>&1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
work=$(mktemp -d)
# A demo catalogue at 256 px (the data pipeline scales it to 256 and crops 224).
"$bin" demo --out "$work/demo" --products 800 --image-size 256 --json
nvidia-smi dmon -s u -d 1 > "$out/gpu-utilisation.log" 2>&1 &
dmon=$!
for run in "64 single" "128 single" "64 multi"; do
    set -- $run; batch=$1; mode=$2
    flag=""; [ "$mode" = single ] && flag="--single-image"
    echo "== vitrine zfnet 224 px, batch $batch, $mode-image, cuda:0"
    timeout 120 "$bin" train "$work/demo/manifest.csv" --out "$work/run-$batch-$mode" \
      --backbone zfnet --image-size 224 --batch "$batch" --epochs 2 --devices cuda:0 \
      --validation-fraction 0.1 $flag --json \
      | python3 -u -c 'import json,sys,time
t0 = time.time()
for line in sys.stdin:
    r = json.loads(line)
    if r["kind"] == "iteration":
        if r["iteration"] % 10 == 0:
            print("%.1f s: iteration %d, %.1f images/s" % (time.time() - t0, r["iteration"], r["images_per_second"]))
    elif r["kind"] == "epoch":
        print("epoch", r["epoch"], "train images/s %.1f" % r["images_per_second"], "data wait %.1f%%" % (100 * r["data_wait"]), "seconds %.1f" % r["seconds"], "mean accuracy " + ("%.3f" % r["mean_accuracy"] if r.get("mean_accuracy") is not None else "- (no validation split)"))
    else:
        print(line.strip()[:400])'
done
for run in "64 1" "128 1" "64 3"; do
  set -- $run
  echo "== PyTorch zfnet 224 px, batch $1, $2 photos per product, cuda"
  timeout 90 python3 benches/torch_peer.py --backbone zfnet --image-size 224 --batch "$1" \
    --images-per-product "$2" --device cuda --iters 30 --warmup 5 --json
done
kill $dmon 2>/dev/null
echo "GPU utilisation samples (sm %):"
awk 'NR>2 {print $2}' "$out/gpu-utilisation.log" | sort -n | uniq -c | sort -k2 -n | tail -20
