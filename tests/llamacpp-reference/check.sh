#!/usr/bin/env bash
# Interoperability with llama.cpp itself, not just with its file format: micse-convert writes a
# GGUF of ../shared/fixtures/llamacpp-bert/hf (f32 and f16), llama.cpp's embedding path loads it
# and embeds the fixture's ids with the pooling the file declares (CLS), and the vectors are
# compared with PyTorch's goldens and with micse's on the same file. Not part of CI: the
# node-llama-cpp package is 700 MB with its optional GPU builds.
#   bash tests/llamacpp-reference/check.sh [WORK_DIR]        (after bash scripts/test.sh)
# llama.cpp computes GELU with a tanh approximation read from an fp16 table, so it matches
# PyTorch only to about 1.5e-3 (the fixture's README); the bound here is 5e-3 against PyTorch.
set -euo pipefail
cd "$(dirname "$0")/../.."
here=tests/llamacpp-reference
fix=../shared/fixtures/llamacpp-bert
work="${1:-/tmp/micse-llamacpp}"
mkdir -p "$work"
[ -d "$here/node_modules/node-llama-cpp" ] || \
  (cd "$here" && npm install --ignore-scripts --no-audit --no-fund > /dev/null)
status=0
for dtype in f32 f16; do
  ./build/micse-convert "$fix/hf" "$work/micse-$dtype.gguf" --dtype "$dtype" > /dev/null 2>&1
  node "$here/embed.mjs" "$work/micse-$dtype.gguf" "$fix/ids.jsonl" > "$work/llamacpp-$dtype.json"
  tr -d '[],' < "$fix/ids.jsonl" > "$work/ids.txt"
  ./build/micse-embed "$work/micse-$dtype.gguf" "$work/ids.txt" --ids -o "$work/micse-$dtype.tsv"
  /usr/bin/python3 - "$work" "$dtype" "$fix/cls-$dtype.npy" <<'PY' || status=1
import json, sys
import numpy as np
work, dtype, golden = sys.argv[1:]
llama = np.array(json.load(open(f"{work}/llamacpp-{dtype}.json")))
micse = np.loadtxt(f"{work}/micse-{dtype}.tsv", ndmin=2)
torch = np.load(golden)
d_lt, d_mt, d_lm = (float(np.abs(a - b).max()) for a, b in ((llama, torch), (micse, torch), (llama, micse)))
print(f"{dtype}: {llama.shape[0]} sequences; max |llama.cpp - PyTorch| = {d_lt:.2e}, "
      f"|micse - PyTorch| = {d_mt:.2e}, |llama.cpp - micse| = {d_lm:.2e}")
ok = llama.shape == torch.shape and d_lt <= 5e-3 and d_mt <= 1e-4
print(f"{dtype}: {'ok' if ok else 'MISMATCH'}")
sys.exit(0 if ok else 1)
PY
done
exit $status
