#!/usr/bin/env python3
"""PyTorch on the side-by-side workloads: padded batches (padding=True) with attention masks, as
users run Hugging Face models. Prints JSON {workload: sentences per second (median)}.

    /usr/bin/python3 bench/reference/run_torch.py WORKLOADS.json [REPEATS]
"""
import json
import statistics
import sys
import time

import torch

import make_model


def pad(batch):
    n = max(len(s) for s in batch)
    ids = torch.zeros(len(batch), n, dtype=torch.long)
    mask = torch.zeros(len(batch), n, dtype=torch.long)
    for i, s in enumerate(batch):
        ids[i, :len(s)] = torch.tensor(s)
        mask[i, :len(s)] = 1
    return ids, mask


def main():
    workloads = json.load(open(sys.argv[1]))
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    cfg, sd = make_model.build()
    model = make_model.Bert(sd, cfg).eval()
    out = {}
    with torch.no_grad():
        for name, w in workloads.items():
            torch.set_num_threads(w["threads"])
            batches = [pad(b) for b in w["batches"]]
            sentences = sum(len(b) for b in w["batches"])
            model(*batches[0])  # warm-up
            times = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                for ids, mask in batches:
                    model(ids, mask)
                times.append(time.perf_counter() - t0)
            out[name] = sentences / statistics.median(times)
            print(f"torch {name}: {out[name]:.2f} sentences/s", file=sys.stderr)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
