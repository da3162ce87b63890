#!/usr/bin/env bash
# Side by side on one machine, one model, the same token ids: micse, ONNX Runtime (npm
# onnxruntime-node) and PyTorch (Debian's python3-torch). Prints sentences per second for each
# workload and micse's ratio to the others; medians of REPEATS runs each.
#
#   bash bench/compare_forward.sh [WORK_DIR] [REPEATS]
#
# Needs: a Release build in build/ (bash scripts/test.sh), python3-torch, libopenblas0-openmp
# (else PyTorch uses the slow reference BLAS), Node.js. ONNX Runtime is installed here with
#   (cd bench/reference && ONNXRUNTIME_NODE_INSTALL=skip npm install --ignore-scripts)
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-/tmp/micse-compare}"
repeats="${2:-5}"
py=/usr/bin/python3
mkdir -p "$work"
[ -d bench/reference/node_modules/onnxruntime-node ] || \
  (cd bench/reference && ONNXRUNTIME_NODE_INSTALL=skip npm install --ignore-scripts --no-audit --no-fund > /dev/null)
[ -f "$work/model.onnx" ] || $py bench/reference/make_model.py "$work" 2> /dev/null
[ -f "$work/model.gguf" ] || ./build/micse-convert "$work/hf" "$work/model.gguf" 2> /dev/null
./build/micse-tokenize "$work/model.gguf" bench/data/sentences.txt > "$work/sentences.ids"
$py bench/reference/workloads.py "$work/sentences.ids" "$work/workloads.json"

echo "micse ..." >&2
./build/bench/micse_compare "$work/model.gguf" "$work/workloads.json" "$repeats" > "$work/micse.json"
echo "ONNX Runtime ..." >&2
node bench/reference/run_ort.js "$work/model.onnx" "$work/workloads.json" "$repeats" > "$work/ort.json"
echo "PyTorch ..." >&2
(cd bench/reference && $py run_torch.py "$work/workloads.json" "$repeats") > "$work/torch.json"

$py - "$work" <<'PY'
import json, sys, os
w = sys.argv[1]
m, o, t = (json.load(open(os.path.join(w, f + ".json"))) for f in ("micse", "ort", "torch"))
print(f"{'workload':22} {'micse':>9} {'ORT':>9} {'PyTorch':>9} {'micse/ORT':>10} {'micse/PT':>9}   (sentences/s)")
for k in o:
    print(f"{k:22} {m[k]:9.2f} {o[k]:9.2f} {t[k]:9.2f} {m[k]/o[k]:9.2f}x {m[k]/t[k]:8.2f}x")
print(f"micse: load {m['load_seconds']*1000:.0f} ms, peak RSS {m['peak_rss_mb']:.0f} MB, "
      f"model file {os.path.getsize(os.path.join(w, 'model.gguf'))/2**20:.0f} MB")
PY
