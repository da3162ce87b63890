#!/usr/bin/env bash
# Side by side, one thread each: micse's tokenizer and Hugging Face's (npm tokenizers) on the same
# English corpus. Prints both medians and the ratio against the faster of the reference's two modes.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d tests/tokenizer-reference/node_modules/tokenizers ] || (cd tests/tokenizer-reference && npm install --no-audit --no-fund)
ours=$(./build/bench/micse_bench_tokenizer --benchmark_format=json | python3 -c '
import json, sys
runs = json.load(sys.stdin)["benchmarks"]
print("%.2f" % (next(r for r in runs if r.get("aggregate_name") == "median")["bytes_per_second"] / 1e6))')
ref=$(RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false node bench/tokenizer_reference.js)
echo "micse:                 $ours MB/s"
echo "$ref"
best=$(echo "$ref" | awk '{print $(NF-1)}' | sort -g | tail -1)
python3 -c "print('ratio micse / reference: %.1fx' % ($ours / $best))"
