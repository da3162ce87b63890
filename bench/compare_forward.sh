#!/usr/bin/env bash
# Side by side on one machine, one model, the same token ids: micse, ONNX Runtime (npm
# onnxruntime-node) and PyTorch (Debian's python3-torch), and with MICSE_COMPARE_LLAMACPP=1
# llama.cpp (node-llama-cpp, 700 MB to install). Prints sentences per second for each workload
# and micse's ratio to the others; medians of REPEATS runs each.
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

rm -f "$work/llamacpp.json"
if [ "${MICSE_COMPARE_LLAMACPP:-0}" = 1 ]; then
  echo "llama.cpp ..." >&2
  [ -d tests/llamacpp-reference/node_modules/node-llama-cpp ] || \
    (cd tests/llamacpp-reference && npm install --ignore-scripts --no-audit --no-fund > /dev/null)
  node bench/reference/run_llamacpp.mjs "$work/model.gguf" "$work/workloads.json" "$repeats" > "$work/llamacpp.json"
fi

$py - "$work" <<'PY'
import json, sys, os
w = sys.argv[1]
m, o, t = (json.load(open(os.path.join(w, f + ".json"))) for f in ("micse", "ort", "torch"))
lp = os.path.join(w, "llamacpp.json")
l = json.load(open(lp)) if os.path.exists(lp) else {}
head = f"{'workload':22} {'micse':>9} {'ORT':>9} {'PyTorch':>9}" + (f" {'llama.cpp':>9}" if l else "")
head += f" {'micse/ORT':>10} {'micse/PT':>9}" + (f" {'micse/llama':>11}" if l else "")
print(head + "   (sentences/s)")
for k in o:
    row = f"{k:22} {m[k]:9.2f} {o[k]:9.2f} {t[k]:9.2f}" + (f" {l[k]:9.2f}" if k in l else (f" {'-':>9}" if l else ""))
    row += f" {m[k]/o[k]:9.2f}x {m[k]/t[k]:8.2f}x" + (f" {m[k]/l[k]:10.2f}x" if k in l else "")
    print(row)
print(f"micse: load {m['load_seconds']*1000:.0f} ms, peak RSS {m['peak_rss_mb']:.0f} MB, "
      f"model file {os.path.getsize(os.path.join(w, 'model.gguf'))/2**20:.0f} MB")
PY
