#pragma once
// Hugging Face BERT checkpoint directory -> one GGUF file in llama.cpp's BERT conventions
// (see docs/gguf.md): the weights under llama.cpp's tensor names, the model shape under `bert.`,
// the vocabulary in llama.cpp's "phantom space" form, and the tokenizer settings under `micse.`.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <micse/detail/half.hpp>
#include <micse/error.hpp>
#include <micse/gguf.hpp>
#include <micse/vocab.hpp>
#include <nlohmann/json.hpp>

#include "checkpoint.hpp"

namespace micse::convert {

enum class OutType { f32, f16 };

struct ConvertOptions {
    OutType type = OutType::f32;
    std::string name;  // general.name; empty: the checkpoint folder's name
};

struct ConvertReport {
    std::vector<std::string> skipped;  // checkpoint tensors that are not part of the encoder
    std::size_t tensors_written = 0;
    std::uint64_t bytes = 0;
};

// What config.json says about the model, checked to be a BERT that micse can run.
struct HfConfig {
    int hidden = 0, layers = 0, heads = 0, intermediate = 0, max_position = 0, type_vocab = 0, vocab = 0;
    double eps = 1e-12;
};

namespace detail {

inline int config_int(const nlohmann::json& j, const std::string& key, const std::string& path, int lo, int hi) {
    if (!j.contains(key)) throw Error(path + ": \"" + key + "\" is missing");
    if (!j[key].is_number_integer()) throw Error(path + ": \"" + key + "\" must be an integer");
    const auto v = j[key].get<std::int64_t>();
    if (v < lo || v > hi)
        throw Error(path + ": \"" + key + "\" = " + std::to_string(v) + " is outside [" + std::to_string(lo) + ", " +
                    std::to_string(hi) + "]");
    return int(v);
}

inline std::string config_string(const nlohmann::json& j, const std::string& key, const std::string& path,
                                 const std::string& fallback) {
    if (!j.contains(key) || j[key].is_null()) return fallback;
    if (!j[key].is_string()) throw Error(path + ": \"" + key + "\" must be a string");
    return j[key].get<std::string>();
}

inline HfConfig read_config(const std::string& path) {
    const auto j = read_json_file(path);
    if (!j.is_object()) throw Error(path + ": not a JSON object");
    HfConfig c;
    if (j.contains("model_type") && j["model_type"] != "bert")
        throw Error(path + ": model_type is " + j["model_type"].dump() + "; micse converts BERT models only");
    c.hidden = config_int(j, "hidden_size", path, 1, 1 << 16);
    c.layers = config_int(j, "num_hidden_layers", path, 1, 1024);
    c.heads = config_int(j, "num_attention_heads", path, 1, 1024);
    c.intermediate = config_int(j, "intermediate_size", path, 1, 1 << 18);
    c.max_position = config_int(j, "max_position_embeddings", path, 2, 1 << 20);
    c.type_vocab = j.contains("type_vocab_size") ? config_int(j, "type_vocab_size", path, 1, 1 << 16) : 2;
    c.vocab = config_int(j, "vocab_size", path, 1, 1 << 24);
    if (j.contains("layer_norm_eps")) {
        if (!j["layer_norm_eps"].is_number()) throw Error(path + ": \"layer_norm_eps\" must be a number");
        c.eps = j["layer_norm_eps"].get<double>();
        // the GGUF key is f32: an epsilon below float's range would be written as 0 (the range
        // is checked first: a double beyond float's range converts with undefined behaviour)
        if (!(c.eps > 0 && c.eps < 1 && float(c.eps) > 0))
            throw Error(path + ": \"layer_norm_eps\" = " + j["layer_norm_eps"].dump() +
                        " must be in (0, 1) and at least 1.4e-45, the smallest float");
    }
    if (c.hidden % c.heads != 0)
        throw Error(path + ": num_attention_heads " + std::to_string(c.heads) + " does not divide hidden_size " +
                    std::to_string(c.hidden));
    const std::string act = config_string(j, "hidden_act", path, "gelu");
    if (act != "gelu")
        throw Error(path + ": hidden_act \"" + act + "\" is not supported (micse runs the exact erf GELU, \"gelu\")");
    const std::string pos = config_string(j, "position_embedding_type", path, "absolute");
    if (pos != "absolute")
        throw Error(path + ": position_embedding_type \"" + pos + "\" is not supported (only \"absolute\")");
    return c;
}

// tokenizer_config.json / special_tokens_map.json: a token is a string or {"content": ...}.
inline std::optional<std::string> token_text(const nlohmann::json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
    return std::nullopt;
}

inline std::vector<std::string> read_vocab_txt(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(path + ": cannot open");
    std::vector<std::string> v;
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();  // as Python's universal newlines
        v.push_back(line);
    }
    if (v.empty()) throw Error(path + ": the vocabulary is empty");
    return v;
}

// HF name (after dropping `bert.`, with gamma/beta read as weight/bias) -> GGUF name.
inline std::optional<std::string> gguf_name(const std::string& hf) {
    static const std::map<std::string, std::string> top = {
        {"embeddings.word_embeddings.weight", "token_embd.weight"},
        {"embeddings.position_embeddings.weight", "position_embd.weight"},
        {"embeddings.token_type_embeddings.weight", "token_types.weight"},
        {"embeddings.LayerNorm.weight", "token_embd_norm.weight"},
        {"embeddings.LayerNorm.bias", "token_embd_norm.bias"},
    };
    static const std::map<std::string, std::string> layer = {
        {"attention.self.query", "attn_q"},          {"attention.self.key", "attn_k"},
        {"attention.self.value", "attn_v"},          {"attention.output.dense", "attn_output"},
        {"attention.output.LayerNorm", "attn_output_norm"}, {"intermediate.dense", "ffn_up"},
        {"output.dense", "ffn_down"},                {"output.LayerNorm", "layer_output_norm"},
    };
    if (const auto it = top.find(hf); it != top.end()) return it->second;
    const std::string p = "encoder.layer.";
    if (hf.rfind(p, 0) != 0) return std::nullopt;
    const auto dot = hf.find('.', p.size());
    if (dot == std::string::npos) return std::nullopt;
    const std::string n = hf.substr(p.size(), dot - p.size());
    if (n.empty() || n.size() > 4 || n.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    const std::string rest = hf.substr(dot + 1);
    const auto last = rest.rfind('.');
    if (last == std::string::npos) return std::nullopt;
    const std::string suffix = rest.substr(last + 1);
    if (suffix != "weight" && suffix != "bias") return std::nullopt;
    const auto it = layer.find(rest.substr(0, last));
    if (it == layer.end()) return std::nullopt;
    return "blk." + std::to_string(std::stoi(n)) + "." + it->second + "." + suffix;
}

// llama.cpp's size label: the parameter count in K, M, B or T with at least two significant
// digits ("996K", "110M").
inline std::string size_label(std::uint64_t n) {
    double scaled;
    const char* suffix;
    if (n > 1e12) scaled = double(n) * 1e-12, suffix = "T";
    else if (n > 1e9) scaled = double(n) * 1e-9, suffix = "B";
    else if (n > 1e6) scaled = double(n) * 1e-6, suffix = "M";
    else scaled = double(n) * 1e-3, suffix = "K";
    const int digits = int(std::to_string(std::llround(scaled)).size());
    const int decimals = std::max(2 - digits, 0);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.*f%s", decimals, scaled, suffix);
    return buf;
}

inline bool is_skipped(const std::string& hf) {
    return hf == "embeddings.position_ids" || hf.rfind("pooler.", 0) == 0 || hf.rfind("cls.", 0) == 0 ||
           hf.rfind("mlp.", 0) == 0;
}

inline std::string canonical_hf_name(std::string n) {
    if (n.rfind("bert.", 0) == 0) n = n.substr(5);
    auto swap_suffix = [&](const std::string& from, const std::string& to) {
        if (n.size() >= from.size() && n.compare(n.size() - from.size(), from.size(), from) == 0)
            n = n.substr(0, n.size() - from.size()) + to;
    };
    swap_suffix("LayerNorm.gamma", "LayerNorm.weight");
    swap_suffix("LayerNorm.beta", "LayerNorm.bias");
    return n;
}

}  // namespace detail

// Converts the checkpoint in `hf_dir` to `out_path`. Throws micse::Error, naming the file and the
// tensor, on any problem; `out_path` then does not exist (or keeps what it had before).
inline ConvertReport convert_checkpoint(const std::string& hf_dir, const std::string& out_path,
                                        const ConvertOptions& options = {}) {
    namespace fs = std::filesystem;
    const fs::path dir(hf_dir);
    if (!fs::is_directory(dir)) throw Error(hf_dir + ": not a directory");
    const HfConfig cfg = detail::read_config((dir / "config.json").string());

    // ---- tokenizer settings ----
    nlohmann::json tok_cfg = nlohmann::json::object(), special_map = nlohmann::json::object();
    if (fs::exists(dir / "tokenizer_config.json")) tok_cfg = detail::read_json_file((dir / "tokenizer_config.json").string());
    if (fs::exists(dir / "special_tokens_map.json"))
        special_map = detail::read_json_file((dir / "special_tokens_map.json").string());
    if (!tok_cfg.is_object()) throw Error((dir / "tokenizer_config.json").string() + ": not a JSON object");
    if (!special_map.is_object()) throw Error((dir / "special_tokens_map.json").string() + ": not a JSON object");
    auto special = [&](const std::string& key, const std::string& fallback) {
        if (special_map.contains(key))
            if (auto t = detail::token_text(special_map[key])) return *t;
        if (tok_cfg.contains(key))
            if (auto t = detail::token_text(tok_cfg[key])) return *t;
        return fallback;
    };
    auto flag = [&](const std::string& key, bool fallback) {
        if (!tok_cfg.contains(key) || tok_cfg[key].is_null()) return fallback;
        if (!tok_cfg[key].is_boolean()) throw Error((dir / "tokenizer_config.json").string() + ": \"" + key + "\" must be true or false");
        return tok_cfg[key].get<bool>();
    };
    const bool lower = flag("do_lower_case", true);
    const bool chinese = flag("tokenize_chinese_chars", true);
    std::optional<bool> strip_accents;
    if (tok_cfg.contains("strip_accents") && !tok_cfg["strip_accents"].is_null()) strip_accents = flag("strip_accents", true);
    std::uint32_t model_max_length = std::uint32_t(cfg.max_position);
    if (tok_cfg.contains("model_max_length") && tok_cfg["model_max_length"].is_number()) {
        const double m = tok_cfg["model_max_length"].get<double>();  // transformers writes 1e30 for "none"
        if (m >= 2 && m < double(cfg.max_position)) model_max_length = std::uint32_t(m);
    }

    std::vector<std::string> vocab = detail::read_vocab_txt((dir / "vocab.txt").string());
    if (int(vocab.size()) > cfg.vocab)
        throw Error((dir / "vocab.txt").string() + ": " + std::to_string(vocab.size()) + " tokens, more than vocab_size " +
                    std::to_string(cfg.vocab) + " in config.json");
    const std::size_t real_tokens = vocab.size();
    for (std::size_t i = real_tokens; i < std::size_t(cfg.vocab); ++i)  // rows with no text: never produced
        vocab.push_back("[PAD" + std::to_string(i) + "]");
    std::map<std::string, std::uint32_t> index;
    for (std::size_t i = 0; i < real_tokens; ++i) index.emplace(vocab[i], std::uint32_t(i));
    auto id_of = [&](const std::string& token) {
        const auto it = index.find(token);
        if (it == index.end()) throw Error((dir / "vocab.txt").string() + ": the special token " + token + " is not in the vocabulary");
        return it->second;
    };
    const std::uint32_t cls = id_of(special("cls_token", "[CLS]")), sep = id_of(special("sep_token", "[SEP]")),
                        unk = id_of(special("unk_token", "[UNK]")), pad = id_of(special("pad_token", "[PAD]")),
                        mask = id_of(special("mask_token", "[MASK]"));
    const std::set<std::uint32_t> specials = {cls, sep, unk, pad, mask};

    // ---- weights: map, check, collect what is skipped ----
    std::vector<SourceTensor> source = read_checkpoint(hf_dir);
    ConvertReport report;
    struct Planned {
        const SourceTensor* src;
        std::string name;
        std::vector<std::int64_t> shape;  // PyTorch order
    };
    std::map<std::string, Planned> planned;
    for (const auto& t : source) {
        const std::string hf = detail::canonical_hf_name(t.name);
        if (detail::is_skipped(hf)) {
            report.skipped.push_back(t.name);
            continue;
        }
        const auto name = detail::gguf_name(hf);
        if (!name) throw Error(t.file + ": tensor '" + t.name + "' is not part of a BERT encoder; refusing to guess");
        if (!detail::is_float_dtype(t.dtype))
            throw Error(t.file + ": tensor '" + t.name + "' has dtype " + t.dtype + "; weights must be float");
        if (planned.count(*name)) throw Error(t.file + ": tensor '" + t.name + "' maps to " + *name + " a second time");
        planned[*name] = {&t, *name, t.shape};
    }

    const std::int64_t H = cfg.hidden, I = cfg.intermediate;
    std::vector<std::pair<std::string, std::vector<std::int64_t>>> expected = {
        {"token_embd.weight", {cfg.vocab, H}},       {"position_embd.weight", {cfg.max_position, H}},
        {"token_types.weight", {cfg.type_vocab, H}}, {"token_embd_norm.weight", {H}},
        {"token_embd_norm.bias", {H}},
    };
    for (int l = 0; l < cfg.layers; ++l) {
        const std::string p = "blk." + std::to_string(l) + ".";
        for (const char* n : {"attn_q", "attn_k", "attn_v", "attn_output"}) {
            expected.push_back({p + n + ".weight", {H, H}});
            expected.push_back({p + n + ".bias", {H}});
        }
        expected.push_back({p + "attn_output_norm.weight", {H}});
        expected.push_back({p + "attn_output_norm.bias", {H}});
        expected.push_back({p + "ffn_up.weight", {I, H}});
        expected.push_back({p + "ffn_up.bias", {I}});
        expected.push_back({p + "ffn_down.weight", {H, I}});
        expected.push_back({p + "ffn_down.bias", {H}});
        expected.push_back({p + "layer_output_norm.weight", {H}});
        expected.push_back({p + "layer_output_norm.bias", {H}});
    }
    auto show = [](const std::vector<std::int64_t>& s) {
        std::string r = "[";
        for (std::size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
        return r + "]";
    };
    for (const auto& [name, shape] : expected) {
        const auto it = planned.find(name);
        if (it == planned.end()) throw Error(hf_dir + ": the checkpoint has no tensor for " + name + " (a BERT with " +
                                             std::to_string(cfg.layers) + " layers needs it)");
        if (it->second.shape != shape)
            throw Error(it->second.src->file + ": tensor '" + it->second.src->name + "' has shape " + show(it->second.shape) +
                        ", config.json implies " + show(shape));
    }
    if (planned.size() != expected.size()) {
        std::set<std::string> want;
        for (const auto& e : expected) want.insert(e.first);
        for (const auto& [name, p] : planned)
            if (!want.count(name))
                throw Error(p.src->file + ": tensor '" + p.src->name + "' belongs to layer beyond num_hidden_layers = " +
                            std::to_string(cfg.layers));
    }

    // ---- the file ----
    gguf::Writer w;
    const std::string model_name = options.name.empty() ? fs::absolute(dir).lexically_normal().filename().string() : options.name;
    w.set("general.architecture", gguf::Value::string("bert"));
    w.set("general.type", gguf::Value::string("model"));
    w.set("general.name", gguf::Value::string(model_name.empty() ? "bert" : model_name));
    std::uint64_t parameters = 0;
    for (const auto& e : expected) {
        std::uint64_t n = 1;
        for (auto d : e.second) n *= std::uint64_t(d);
        parameters += n;
    }
    w.set("general.size_label", gguf::Value::string(detail::size_label(parameters)));
    w.set("general.file_type", gguf::Value::u32(options.type == OutType::f16 ? 1 : 0));
    w.set("bert.context_length", gguf::Value::u32(std::uint32_t(cfg.max_position)));
    w.set("bert.embedding_length", gguf::Value::u32(std::uint32_t(cfg.hidden)));
    w.set("bert.feed_forward_length", gguf::Value::u32(std::uint32_t(cfg.intermediate)));
    w.set("bert.block_count", gguf::Value::u32(std::uint32_t(cfg.layers)));
    w.set("bert.attention.head_count", gguf::Value::u32(std::uint32_t(cfg.heads)));
    w.set("bert.attention.layer_norm_epsilon", gguf::Value::f32(float(cfg.eps)));
    w.set("bert.attention.causal", gguf::Value::boolean(false));
    w.set("bert.pooling_type", gguf::Value::u32(2));  // CLS: miCSE's sentence embedding
    w.set("tokenizer.ggml.model", gguf::Value::string("bert"));
    w.set("tokenizer.ggml.pre", gguf::Value::string("jina-v2-en"));  // what llama.cpp picks for BERT's WordPiece
    std::vector<gguf::Value> tokens, types;
    tokens.reserve(vocab.size());
    types.reserve(vocab.size());
    for (std::size_t i = 0; i < vocab.size(); ++i) {
        const bool control = specials.count(std::uint32_t(i)) != 0;
        tokens.push_back(gguf::Value::string(vocab::to_phantom_space(vocab[i])));
        // llama.cpp marks the special tokens control (3) and every other token normal (1); the
        // padding rows beyond vocab.txt are unused (5).
        types.push_back(gguf::Value::i32(control ? 3 : (i < real_tokens ? 1 : 5)));
    }
    w.set("tokenizer.ggml.tokens", gguf::Value::array(std::move(tokens)));
    w.set("tokenizer.ggml.token_type", gguf::Value::array(std::move(types)));
    w.set("tokenizer.ggml.token_type_count", gguf::Value::u32(std::uint32_t(cfg.type_vocab)));
    w.set("tokenizer.ggml.bos_token_id", gguf::Value::u32(cls));
    w.set("tokenizer.ggml.cls_token_id", gguf::Value::u32(cls));
    w.set("tokenizer.ggml.seperator_token_id", gguf::Value::u32(sep));  // sic: llama.cpp's spelling
    w.set("tokenizer.ggml.unknown_token_id", gguf::Value::u32(unk));
    w.set("tokenizer.ggml.padding_token_id", gguf::Value::u32(pad));
    w.set("tokenizer.ggml.mask_token_id", gguf::Value::u32(mask));
    w.set("micse.tokenizer.do_lower_case", gguf::Value::boolean(lower));
    if (strip_accents) w.set("micse.tokenizer.strip_accents", gguf::Value::boolean(*strip_accents));
    w.set("micse.tokenizer.tokenize_chinese_chars", gguf::Value::boolean(chinese));
    w.set("micse.tokenizer.model_max_length", gguf::Value::u32(model_max_length));
    w.set("micse.tokenizer.max_input_chars_per_word", gguf::Value::u32(100));
    // A token that the phantom-space form cannot give back is kept in its original form too.
    std::vector<gguf::Value> originals;
    bool lossless = true;
    for (const auto& t : vocab) lossless = lossless && vocab::from_phantom_space(vocab::to_phantom_space(t)) == t;
    if (!lossless) {
        for (const auto& t : vocab) originals.push_back(gguf::Value::string(t));
        w.set("micse.tokenizer.wordpiece_tokens", gguf::Value::array(std::move(originals)));
    }

    for (const auto& entry : expected) {
        const std::string& name = entry.first;
        const std::vector<std::int64_t>& shape = entry.second;
        const Planned& p = planned.at(name);
        // llama.cpp keeps 1-D tensors and the position and token-type tables in F32.
        const bool half = options.type == OutType::f16 && shape.size() == 2 && name != "position_embd.weight" &&
                          name != "token_types.weight";
        std::vector<std::uint64_t> ne(shape.rbegin(), shape.rend());  // ne[0] innermost
        const SourceTensor* src = p.src;
        w.add_tensor(name, ne, half ? gguf::TensorType::F16 : gguf::TensorType::F32,
                     [src, half, name](std::vector<std::uint8_t>& out) {
                         const std::vector<float> v = src->load();
                         for (std::size_t i = 0; i < v.size(); ++i)
                             if (!std::isfinite(v[i]))
                                 throw Error(src->file + ": tensor '" + src->name + "' holds a non-finite value at element " +
                                             std::to_string(i));
                         if (half) {
                             out.resize(v.size() * 2);
                             for (std::size_t i = 0; i < v.size(); ++i) {
                                 const std::uint16_t h = micse::detail::float_to_half(v[i]);
                                 if ((h & 0x7c00u) == 0x7c00u)
                                     throw Error(src->file + ": tensor '" + src->name + "' element " + std::to_string(i) +
                                                 " = " + std::to_string(v[i]) + " does not fit in float16; convert with --dtype f32");
                                 std::memcpy(out.data() + 2 * i, &h, 2);
                             }
                         } else {
                             out.resize(v.size() * 4);
                             std::memcpy(out.data(), v.data(), out.size());
                         }
                     });
        ++report.tensors_written;
    }
    w.write(out_path);
    report.bytes = fs::file_size(out_path);
    return report;
}

}  // namespace micse::convert
