#pragma once
// A full-size (bert-base shape) model with random weights, written once to a temporary GGUF for
// the benchmarks. The values do not matter for speed; the shapes and the file layout do.
#include <filesystem>
#include <random>
#include <string>

#include <micse/gguf.hpp>

namespace bench {

struct Shape {
    std::uint64_t vocab = 30522, hidden = 768, layers = 12, heads = 12, intermediate = 3072, positions = 512;
};

inline std::string write_random_model(const Shape& s = {}) {
    const std::string path = (std::filesystem::temp_directory_path() / "micse-bench-bert-base.gguf").string();
    if (std::filesystem::exists(path)) return path;
    micse::gguf::Writer w;
    w.set("general.architecture", micse::gguf::Value::string("bert"));
    w.set("bert.context_length", micse::gguf::Value::u32(std::uint32_t(s.positions)));
    w.set("bert.embedding_length", micse::gguf::Value::u32(std::uint32_t(s.hidden)));
    w.set("bert.feed_forward_length", micse::gguf::Value::u32(std::uint32_t(s.intermediate)));
    w.set("bert.block_count", micse::gguf::Value::u32(std::uint32_t(s.layers)));
    w.set("bert.attention.head_count", micse::gguf::Value::u32(std::uint32_t(s.heads)));
    w.set("bert.attention.layer_norm_epsilon", micse::gguf::Value::f32(1e-12f));
    w.set("bert.pooling_type", micse::gguf::Value::u32(2));
    auto add = [&](const std::string& name, std::vector<std::uint64_t> ne, float scale, float shift) {
        w.add_tensor(name, ne, micse::gguf::TensorType::F32, [ne, scale, shift, name](std::vector<std::uint8_t>& out) {
            std::uint64_t n = 1;
            for (auto d : ne) n *= d;
            std::mt19937 rng(std::uint32_t(std::hash<std::string>{}(name)));
            std::normal_distribution<float> dist(shift, scale);
            out.resize(n * 4);
            float* f = reinterpret_cast<float*>(out.data());
            for (std::uint64_t i = 0; i < n; ++i) f[i] = dist(rng);
        });
    };
    const auto H = s.hidden, I = s.intermediate;
    add("token_embd.weight", {H, s.vocab}, 0.05f, 0);
    add("position_embd.weight", {H, s.positions}, 0.05f, 0);
    add("token_types.weight", {H, 2}, 0.05f, 0);
    add("token_embd_norm.weight", {H}, 0.1f, 1);
    add("token_embd_norm.bias", {H}, 0.1f, 0);
    for (std::uint64_t l = 0; l < s.layers; ++l) {
        const std::string p = "blk." + std::to_string(l) + ".";
        for (const char* n : {"attn_q", "attn_k", "attn_v", "attn_output"}) {
            add(p + n + ".weight", {H, H}, 0.05f, 0);
            add(p + n + ".bias", {H}, 0.05f, 0);
        }
        add(p + "ffn_up.weight", {H, I}, 0.05f, 0);
        add(p + "ffn_up.bias", {I}, 0.05f, 0);
        add(p + "ffn_down.weight", {I, H}, 0.05f, 0);
        add(p + "ffn_down.bias", {H}, 0.05f, 0);
        for (const char* n : {"attn_output_norm", "layer_output_norm"}) {
            add(p + n + ".weight", {H}, 0.1f, 1);
            add(p + n + ".bias", {H}, 0.1f, 0);
        }
    }
    w.write(path);
    return path;
}

// Multiply-adds x 2 of one forward pass over sequences of these lengths: the dense layers
// (Q, K, V, output, up, down) for every token and attention's two products per sequence.
inline double forward_flops(const std::vector<std::size_t>& lengths, const Shape& s = {}) {
    double f = 0;
    const double H = double(s.hidden), I = double(s.intermediate);
    for (std::size_t n : lengths) {
        const double dense = 2.0 * double(n) * (4 * H * H + 2 * H * I);
        const double attention = 2.0 * 2.0 * double(n) * double(n) * H;
        f += double(s.layers) * (dense + attention);
    }
    return f;
}

}  // namespace bench
