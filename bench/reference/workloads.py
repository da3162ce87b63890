#!/usr/bin/env python3
"""The side-by-side benchmark's workloads, as token ids every engine reads:
fixed shapes (batch x tokens of random ids between [CLS] and [SEP]) and the real sentences of
bench/data/sentences.txt (ids from micse-tokenize, which equals Hugging Face's tokenizer) in
batches of 32 in input order.

    python3 bench/reference/workloads.py SENTENCES.ids OUT.json
"""
import json
import random
import sys


def fixed(batch, tokens, rng):
    return [[101] + [rng.randrange(1000, 29000) for _ in range(tokens - 2)] + [102] for _ in range(batch)]


def main():
    rng = random.Random(1)
    sentences = [[int(x) for x in l.split()] for l in open(sys.argv[1]) if l.strip()]
    w = {}
    for b, t, threads in [(1, 16, 1), (1, 32, 1), (1, 128, 1), (1, 512, 1), (32, 32, 1), (8, 128, 1),
                          (1, 32, 2), (32, 32, 2), (8, 128, 2), (1, 512, 2), (32, 128, 2)]:
        w[f"{b}x{t} t{threads}"] = {"threads": threads, "batches": [fixed(b, t, rng)]}
    batches = [sentences[i:i + 32] for i in range(0, len(sentences), 32)]
    for threads in (1, 2):
        w[f"sentences b32 t{threads}"] = {"threads": threads, "batches": batches}
    json.dump(w, open(sys.argv[2], "w"))


if __name__ == "__main__":
    main()
