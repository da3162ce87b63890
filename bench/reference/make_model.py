#!/usr/bin/env python3
"""The side-by-side benchmark's model: the full-size random checkpoint of the tests
(tests/fixtures/make_fixtures.py, fullsize_state_dict) written in the Hugging Face layout (for
micse-convert) and exported by torch.onnx.export (for ONNX Runtime), with dynamic batch and
sequence axes and an attention mask, as Hugging Face BERT exports are.

    /usr/bin/python3 bench/reference/make_model.py OUT_DIR
"""
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "fixtures"))
import make_fixtures as mf  # noqa: E402


class Bert(torch.nn.Module):
    """HF BertModel's forward (mf.bert_forward) over registered weights."""

    def __init__(self, sd, cfg):
        super().__init__()
        self.names = list(sd.keys())
        for i, (k, v) in enumerate(sd.items()):
            self.register_buffer(f"w{i}", v.float().contiguous())
        self.cfg = cfg

    def forward(self, input_ids, attention_mask):
        sd = {k: getattr(self, f"w{i}") for i, k in enumerate(self.names)}
        return mf.bert_forward(sd, self.cfg, input_ids, attention_mask)[-1]


def build():
    cfg = mf.make_config(hidden=768, layers=12, heads=12, inter=3072, max_pos=512, vocab=30522)
    sd = mf.fullsize_state_dict(cfg)
    return cfg, sd


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    cfg, sd = build()
    mf.save_checkpoint(os.path.join(out, "hf"), cfg, sd, mf.read_vocab(30522), "safetensors")
    model = Bert(sd, cfg).eval()
    ids = torch.randint(1000, 2000, (2, 16))
    mask = torch.ones_like(ids)
    with torch.no_grad():
        torch.onnx.export(model, (ids, mask), os.path.join(out, "model.onnx"), opset_version=14,
                          input_names=["input_ids", "attention_mask"], output_names=["last_hidden_state"],
                          dynamic_axes={"input_ids": {0: "batch", 1: "sequence"},
                                        "attention_mask": {0: "batch", 1: "sequence"},
                                        "last_hidden_state": {0: "batch", 1: "sequence"}},
                          do_constant_folding=True)
    print("wrote", out)


if __name__ == "__main__":
    main()
