#!/usr/bin/python3
"""Writes the fuzzers' seed corpora (fuzz/corpus/<target>/): small, valid inputs of every kind,
so each fuzzer starts from files that get past the first checks. Needs Debian's python3-torch
(for torch.save) and a built micse-convert (for the GGUF seeds).

    /usr/bin/python3 fuzz/make_seeds.py build/micse-convert
"""
import collections, io, json, os, pickle, shutil, struct, subprocess, sys, tempfile, zipfile

import torch

here = os.path.dirname(os.path.abspath(__file__))
corpus = os.path.join(here, "corpus")
convert = sys.argv[1]
torch.manual_seed(7)

def put(target, name, data):
    d = os.path.join(corpus, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())

# ---- a tiny BERT in the Hugging Face layout: hidden 8, 2 heads, 1 layer ----------------------
H, I, V, P = 8, 16, 12, 16
vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b", "##c", "hello", "world", ".", "!"]
config = {"model_type": "bert", "hidden_size": H, "num_hidden_layers": 1, "num_attention_heads": 2,
          "intermediate_size": I, "max_position_embeddings": P, "type_vocab_size": 2, "vocab_size": V,
          "hidden_act": "gelu", "layer_norm_eps": 1e-12, "position_embedding_type": "absolute"}
tok_config = {"do_lower_case": True, "model_max_length": P, "tokenize_chinese_chars": True, "strip_accents": None}
special = {"cls_token": "[CLS]", "sep_token": "[SEP]", "unk_token": "[UNK]", "pad_token": "[PAD]", "mask_token": "[MASK]"}
shapes = {"embeddings.word_embeddings.weight": [V, H], "embeddings.position_embeddings.weight": [P, H],
          "embeddings.token_type_embeddings.weight": [2, H], "embeddings.LayerNorm.weight": [H],
          "embeddings.LayerNorm.bias": [H]}
for n, s in [("attention.self.query", [H, H]), ("attention.self.key", [H, H]), ("attention.self.value", [H, H]),
             ("attention.output.dense", [H, H]), ("intermediate.dense", [I, H]), ("output.dense", [H, I])]:
    shapes[f"encoder.layer.0.{n}.weight"] = s
    shapes[f"encoder.layer.0.{n}.bias"] = [s[0]]
shapes["encoder.layer.0.attention.output.LayerNorm.weight"] = [H]
shapes["encoder.layer.0.attention.output.LayerNorm.bias"] = [H]
shapes["encoder.layer.0.output.LayerNorm.weight"] = [H]
shapes["encoder.layer.0.output.LayerNorm.bias"] = [H]
state = collections.OrderedDict((k, torch.randn(*s) * 0.3) for k, s in shapes.items())

def safetensors(tensors, dtype="F32"):
    header, blobs, off = {}, [], 0
    for k, t in tensors.items():
        b = t.to({"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}[dtype]).contiguous()
        raw = b.view(torch.int16).numpy().tobytes() if dtype != "F32" else b.numpy().tobytes()
        header[k] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)

def torch_zip(obj):
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()

# safetensors
put("safetensors", "tiny-f32.safetensors", safetensors(state))
put("safetensors", "tiny-bf16.safetensors", safetensors(state, "BF16"))
put("safetensors", "two-f16.safetensors", safetensors({"a": torch.randn(3, 2), "b": torch.randn(4)}, "F16"))

# torch.save archives, including views with offsets and strides and an int64 buffer
put("torch_zip", "tiny.bin", torch_zip(state))
base = torch.randn(6, 4)
views = collections.OrderedDict([("t", base.t()), ("row", base[2]), ("col", base[:, 1]),
                                 ("h", torch.randn(3, 3).half()), ("bf", torch.randn(5).bfloat16()),
                                 ("position_ids", torch.arange(8).unsqueeze(0))])
put("torch_zip", "views.bin", torch_zip(views))

# pickles: what torch.save writes (data.pkl), and plain data in protocols 2 and 4
for name, blob in [("tiny", torch_zip(state)), ("views", torch_zip(views))]:
    with zipfile.ZipFile(io.BytesIO(blob)) as z:
        pkl = [n for n in z.namelist() if n.endswith("/data.pkl")][0]
        put("pickle", name + ".pkl", z.read(pkl))
plain = collections.OrderedDict([("a", [1, 2, (3, 4.5)]), ("b", {"c": None, "d": True}), ("e", b"bytes" * 3),
                                 ("f", -2 ** 40), ("g", "text \u00e9")])
put("pickle", "plain-p2.pkl", pickle.dumps(plain, protocol=2))
put("pickle", "plain-p4.pkl", pickle.dumps(plain, protocol=4))

# the converter's JSON: config.json NUL tokenizer_config.json NUL special_tokens_map.json
fixtures = os.path.join(here, "..", "tests", "fixtures", "hf")
def read(p):
    with open(p, "rb") as f:
        return f.read()
put("config", "plain", read(os.path.join(fixtures, "plain", "config.json")) + b"\0" +
    read(os.path.join(fixtures, "plain", "tokenizer_config.json")) + b"\0" +
    read(os.path.join(fixtures, "plain", "special_tokens_map.json")))
put("config", "config-only", read(os.path.join(fixtures, "plain", "config.json")))
put("config", "content-objects", read(os.path.join(fixtures, "plain", "config.json")) + b"\0" +
    json.dumps({"do_lower_case": False, "strip_accents": True, "model_max_length": 1e30}).encode() + b"\0" +
    json.dumps({k: {"content": v, "lstrip": False} for k, v in special.items()}).encode())

# GGUF: the tiny model converted by micse-convert, f32 (with vocabulary) and f16
with tempfile.TemporaryDirectory() as d:
    with open(os.path.join(d, "config.json"), "w") as f: json.dump(config, f)
    with open(os.path.join(d, "tokenizer_config.json"), "w") as f: json.dump(tok_config, f)
    with open(os.path.join(d, "special_tokens_map.json"), "w") as f: json.dump(special, f)
    with open(os.path.join(d, "vocab.txt"), "w") as f: f.write("\n".join(vocab) + "\n")
    with open(os.path.join(d, "model.safetensors"), "wb") as f: f.write(safetensors(state))
    for dtype in ("f32", "f16"):
        out = os.path.join(d, f"tiny-{dtype}.gguf")
        subprocess.run([convert, d, out, "--dtype", dtype], check=True, stderr=subprocess.DEVNULL)
        put("gguf", f"tiny-{dtype}.gguf", read(out))

# tokenizer: [variant byte][max_length byte] then text
for i, text in enumerate(["A man is playing a guitar.", "Héllo, Wörld! naïve café",
                          "\u4e2d\u6587 and \u65e5\u672c\u8a9e, mixed [CLS] [SEP] [MASK] tokens",
                          "tab\there\r\nnew line \u200b zero width \u00ad soft hyphen",
                          "superlongwordwithoutanyspacesthatgoesonandonandonandonandonandonandonandonandonandonandonandonandon",
                          "emoji \U0001F600 and symbols \u2603 \u00bd \u2160 \ufb01"]):
    put("tokenizer", f"text-{i}", bytes([i, 40 + 30 * i]) + text.encode())

# encoder: [flags byte] then little-endian u16 ids, 0xFFFF between sequences (see fuzz_encoder.cpp)
def ids_seed(flags, seqs):
    out = bytes([flags])
    for k, s in enumerate(seqs):
        if k: out += b"\xff\xff"
        out += b"".join(struct.pack("<H", (i + 50) % 1100) for i in s)
    return out
put("encoder", "one", ids_seed(0, [[101, 592, 888, 102]]))
put("encoder", "batch", ids_seed(0, [[101, 5, 6, 7, 102], [101, 102], [101] + list(range(200, 260)) + [102], [101, 9, 102]]))
put("encoder", "mean", ids_seed(1, [[101, 11, 12, 13, 102], [101, 999, 102]]))
print("seeds written to", corpus)
