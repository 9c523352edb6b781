#!/usr/bin/env bash
# The GPU lease script: the training engine's checks on a lent GPU machine, in stages, each
# under its own timeout and writing to OUT_DIR as it goes, so that a stage that hangs still
# leaves the others' results. Rehearse it on the CPU path first (DEVICE=cpu), so that only the
# GPU can fail on the lease.
#
# Usage: benches/gpu_check.sh VITRINE_BINARY OUT_DIR [cuda|cpu|wgpu]
#   cuda (default): the binary is built with `--features cuda` (CUDARC_CUDA_VERSION set to the
#     lent machine's driver); at most 7.5 minutes of stage timeouts (30 s for the demo, 120
#     for the first zfnet stage, 60 for each of the others).
#   cpu: the same stages on the CPU, smaller (a rehearsal: about 4 minutes on 2 cores).
#   wgpu: a binary built with the dev-only `--features wgpu`, on wgpu's default adapter (Mesa's
#     software Vulkan driver where there is no GPU): the cubecl path itself (autotune, kernel
#     compilation, its caches, constant shapes) rehearsed at the CPU stages' small sizes.
# AUTOTUNE (default balanced) is the runs' --autotune level.
# Results: OUT_DIR/results.txt (one line per figure), and per stage OUT_DIR/<stage>.log.
#
# Stages: (a) environment; (b) a 20-iteration small-backbone run, every iteration timed, with
# cubecl's log; (c) zfnet at 224 px, batch 64 (8 on the CPU): images/s after the warm-up, the
# time to the first iteration (tuning and compiling), the warm-up the run logged, GPU
# utilisation and data wait, then again with the cubecl caches the first run filled
# (DATA/cubecl); (d) the same network in PyTorch on the same device; (e) two replicas on the
# one device (the data-parallel path); (f) zfnet again without kernel fusion (--fusion off).
# bf16 is not run: the training engine trains in f32 only.
#
# First lease (2026-11-27, H200, the earlier script): the CUDA runs started but none finished
# its first iteration within 120-250 s while the GPU sat idle; see README.
set -uo pipefail
bin=$(realpath "$1")
out=$2
device=${3:-cuda}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
out=$(realpath "$out")
results=$out/results.txt
: > "$results"
work=$(mktemp -d)
autotune=${AUTOTUNE:-balanced}
export VITRINE_DATA_DIR=$work/data

# 90% of the demo trains: on CUDA 720 products, 23 iterations of 32 (b) and 12 of 64 a zfnet
# epoch (c, e); on the CPU 108 products, 7 of 16 and 14 of 8.
if [ "$device" = cuda ]; then
    dev=cuda:0; replicas=cuda:0,cuda:0; debug=stdout
    products=800; batch=64; zfnet_epochs=2; small_batch=32; small_epochs=1; limit=120; short=60
elif [ "$device" = wgpu ]; then
    dev=cuda:0; replicas=cuda:0,cuda:0; debug=stdout
    products=120; batch=8; zfnet_epochs=1; small_batch=16; small_epochs=3; limit=300; short=300
else
    dev=cpu; replicas=cpu,cpu; debug=
    products=120; batch=8; zfnet_epochs=1; small_batch=16; small_epochs=3; limit=120; short=90
fi

# Appends "stage: text" to the results and says it.
result() { echo "$1: $2" | tee -a "$results"; }

# Reads a run's --json records on stdin; writes each iteration with the seconds since the
# start, then a summary line: the first iteration's time (tuning and compiling included), the
# median images/s of the iterations after the first 3, and the epochs' data wait.
summarise() {
    python3 -u -c '
import json, sys, time, statistics
t0 = time.time(); first = None; rates = []; waits = []; warmup = 0.0; failed = None
for line in sys.stdin:
    try:
        r = json.loads(line)
    except ValueError:
        print(line.rstrip()); continue
    kind = r.get("kind")
    if kind == "iteration":
        now = time.time() - t0
        if first is None:
            first = now
        rates.append(r["images_per_second"])
        print("%.2f s: iteration %d, %.1f images/s" % (now, r["iteration"], r["images_per_second"]))
    elif kind == "epoch":
        waits.append(r["data_wait"])
        warmup += r.get("warmup_seconds", 0.0)
        print("epoch %d: %.1f images/s, data wait %.1f%%, warm-up %.1f s" % (r["epoch"], r["images_per_second"], 100 * r["data_wait"], r.get("warmup_seconds", 0.0)))
    elif kind == "failed":
        failed = r.get("message"); print(line.rstrip())
    else:
        print(line.rstrip()[:300])
later = rates[3:] or rates
summary = "no iteration finished" if first is None else "first iteration after %.1f s; median %.1f images/s over %d iterations after the first 3" % (first, statistics.median(later), len(later))
if waits:
    summary += "; data wait %.1f%%; warm-up %.1f s (first step of each shape, not counted)" % (100 * max(waits), warmup)
if failed:
    summary += "; failed: " + failed[:200]
print("SUMMARY " + summary)
'
}

# Runs a training stage: NAME TIMEOUT then the train options.
train_stage() {
    local name=$1 seconds=$2; shift 2
    echo "== $name: $*"
    timeout "$seconds" "$bin" train "$work/demo/manifest.csv" --out "$work/$name" --json \
        --autotune "$autotune" "$@" \
        2> "$out/$name.stderr" | summarise > "$out/$name.log"
    local code=${PIPESTATUS[0]}
    local line
    line=$(grep '^SUMMARY ' "$out/$name.log" | sed 's/^SUMMARY //')
    [ "$code" = 124 ] && line="timed out after $seconds s; $line"
    result "$name" "${line:-no output (exit $code): $(tail -c 300 "$out/$name.stderr")}"
}

# (a) The environment.
{
    echo "device $device; binary $bin; autotune $autotune"
    "$bin" --version
    echo "built for CUDA ${CUDARC_CUDA_VERSION:-(CUDARC_CUDA_VERSION not given)}"
    if [ "$device" = cuda ]; then
        timeout 20 nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
        timeout 20 nvidia-smi | head -5
    else
        nproc
    fi
    python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())'
} > "$out/environment.log" 2>&1
result environment "$(tr '\n' ' ' < "$out/environment.log" | cut -c1-400)"

# The catalogue: a demo at 256 px (the pipeline scales it to 256 and crops 224).
if ! timeout 30 "$bin" demo --out "$work/demo" --products "$products" --image-size 256 \
    > "$out/demo.log" 2>&1; then
    result demo "failed: $(tail -c 300 "$out/demo.log")"
    exit 1
fi

if [ "$device" = cuda ]; then
    nvidia-smi dmon -s u -d 1 > "$out/gpu-utilisation.log" 2>&1 &
    dmon=$!
fi

# (b) About 20 iterations of the small backbone, every one timed, with cubecl's log (its
# kernel compilations, in the stage's log among the records).
CUBECL_DEBUG_LOG=$debug train_stage small-20 "$short" \
    --backbone small --image-size 64 --batch "$small_batch" --epochs "$small_epochs" \
    --validation-fraction 0.1 --devices "$dev"

# (c) zfnet at 224 px on one device, from a fresh cubecl cache ($VITRINE_DATA_DIR/cubecl),
# then again with the tune results and kernels the first run left there.
CUBECL_DEBUG_LOG=$debug train_stage zfnet-224 "$limit" \
    --backbone zfnet --image-size 224 --batch "$batch" --epochs "$zfnet_epochs" \
    --validation-fraction 0.1 --devices "$dev"
result cubecl-cache "$(du -sh "$VITRINE_DATA_DIR/cubecl" 2>/dev/null | cut -f1 || echo none) in $VITRINE_DATA_DIR/cubecl"
train_stage zfnet-224-cached "$short" \
    --backbone zfnet --image-size 224 --batch "$batch" --epochs 1 \
    --validation-fraction 0.1 --devices "$dev"

# (d) The same network in PyTorch on the same device (eager), 3 photos a product.
echo "== torch zfnet 224"
torch_device=$([ "$device" = cuda ] && echo cuda || echo cpu)
timeout 60 python3 "$here/torch_peer.py" --backbone zfnet --image-size 224 --batch "$batch" \
    --images-per-product 3 --device "$torch_device" --iters 10 --warmup 2 --json \
    > "$out/torch-zfnet-224.log" 2>&1
result torch-zfnet-224 "$(tail -c 400 "$out/torch-zfnet-224.log" | tr '\n' ' ')"

# (e) Two replicas on the one device: the data-parallel step.
train_stage zfnet-224-two-replicas "$short" \
    --backbone zfnet --image-size 224 --batch "$batch" --epochs "$zfnet_epochs" \
    --validation-fraction 0.1 --devices "$replicas"

# (f) zfnet without burn's kernel fusion, with the caches of (c): fusion on or off.
train_stage zfnet-224-unfused "$short" \
    --backbone zfnet --image-size 224 --batch "$batch" --epochs 1 \
    --validation-fraction 0.1 --devices "$dev" --fusion off

if [ "$device" = cuda ]; then
    kill "$dmon" 2>/dev/null
    result gpu-utilisation "$(awk 'NR>2 && $2 ~ /^[0-9]+$/ {n++; s+=$2; if ($2 > 0) busy++} END {if (n) printf "%d samples, mean SM %.0f%%, busy in %d", n, s/n, busy}' "$out/gpu-utilisation.log")"
fi
echo "== results ($results)"
cat "$results"
