#!/usr/bin/env bash
# The README's first command: installs what is needed, builds the tools and examples, gets a
# model and runs the similarity example on the miCSE model card's two sentences. Afterwards
# build/model.gguf points at the model it used.
#
# The model, in this order:
#   1. $MICSE_MODEL, when set (a .gguf file);
#   2. models/miCSE.gguf, when an earlier run made it;
#   3. miCSE downloaded from the Hugging Face hub (sap-ai-research/miCSE) and converted;
#   4. without network: the tiny random test model shipped in tests/fixtures/hf/demo, with a
#      notice that its similarities mean nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build -j "$(nproc)" --target micse-convert micse-embed micse-tokenize similarity cluster search sts-eval

model="${MICSE_MODEL:-}"
if [ -z "$model" ] && [ -f models/miCSE.gguf ]; then model=models/miCSE.gguf; fi
if [ -z "$model" ]; then
  hub="https://huggingface.co/sap-ai-research/miCSE/resolve/main"
  dir=models/miCSE-hf
  mkdir -p "$dir"
  echo "downloading miCSE from the Hugging Face hub ..." >&2
  ok=1
  for f in config.json vocab.txt tokenizer_config.json special_tokens_map.json pytorch_model.bin; do
    if [ ! -s "$dir/$f" ]; then
      command -v curl > /dev/null || { ok=0; break; }
      curl -fsSL --connect-timeout 10 -o "$dir/$f.part" "$hub/$f" && mv "$dir/$f.part" "$dir/$f" || { rm -f "$dir/$f.part"; ok=0; break; }
    fi
  done
  if [ "$ok" = 1 ] && ./build/micse-convert "$dir" models/miCSE.gguf --name miCSE; then
    model=models/miCSE.gguf
  else
    echo "" >&2
    echo "NOTICE: miCSE could not be downloaded (no network?). Falling back to the tiny random test" >&2
    echo "        model in tests/fixtures/hf/demo: the program runs, but its similarities are" >&2
    echo "        meaningless. Set MICSE_MODEL=path/to/miCSE.gguf to use the real model." >&2
    echo "" >&2
    mkdir -p build/models
    ./build/micse-convert tests/fixtures/hf/demo build/models/demo.gguf --name demo 2> /dev/null
    model=build/models/demo.gguf
  fi
fi
# build/model.gguf names the model used, for the README's next commands
ln -sfn "$(realpath "$model")" build/model.gguf
./build/examples/similarity "$model" "$@"
