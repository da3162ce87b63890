#pragma once
// The full-size (12 x 768, bert-base) random checkpoint, regenerated bit for bit from the
// counter-based generator in tests/fixtures/make_fixtures.py (fullsize_state_dict), so the test
// needs neither PyTorch nor 440 MB of committed weights. Only PyTorch's goldens are committed.
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include <micse/detail/half.hpp>
#include <nlohmann/json.hpp>

#include "common.hpp"

namespace test::fullsize {

inline std::uint64_t splitmix64(std::uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

inline std::uint64_t name_seed(const std::string& name) {  // FNV-1a 64
    std::uint64_t h = 0xCBF29CE484222325ull;
    for (unsigned char c : name) h = (h ^ c) * 0x100000001B3ull;
    return h;
}

// Value i of tensor `name`: the same float32 operations, in the same order, as numpy does them.
// The volatile keeps the compiler from fusing the multiply and add into one FMA (one rounding
// instead of numpy's two).
inline std::vector<float> tensor(const std::string& name, std::size_t n, float scale, float shift) {
    std::vector<float> v(n);
    const std::uint64_t seed = name_seed(name);
    for (std::size_t i = 0; i < n; ++i) {
        const float u = float(splitmix64(seed + i) >> 40);
        const float x = u * 0x1p-23f - 1.0f;  // exact
        volatile float scaled = x * scale;
        v[i] = scaled + shift;
    }
    return v;
}

struct Tensor {
    std::string name;
    std::vector<std::int64_t> shape;
    std::vector<float> values;
};

// The table of (scale, shift) per tensor mirrors fullsize_state_dict.
inline std::vector<Tensor> state_dict(const nlohmann::json& cfg) {
    const std::int64_t H = cfg["hidden_size"], I = cfg["intermediate_size"], V = cfg["vocab_size"];
    std::vector<Tensor> sd;
    auto add = [&](const std::string& name, std::vector<std::int64_t> shape, float scale, float shift = 0.0f) {
        std::size_t n = 1;
        for (auto d : shape) n *= std::size_t(d);
        sd.push_back({name, shape, tensor(name, n, scale, shift)});
    };
    add("embeddings.word_embeddings.weight", {V, H}, 0.1f);
    add("embeddings.position_embeddings.weight", {cfg["max_position_embeddings"].get<std::int64_t>(), H}, 0.1f);
    add("embeddings.token_type_embeddings.weight", {cfg["type_vocab_size"].get<std::int64_t>(), H}, 0.1f);
    add("embeddings.LayerNorm.weight", {H}, 0.2f, 1.0f);
    add("embeddings.LayerNorm.bias", {H}, 0.1f);
    for (int i = 0; i < cfg["num_hidden_layers"].get<int>(); ++i) {
        const std::string p = "encoder.layer." + std::to_string(i) + ".";
        const std::vector<std::pair<std::string, std::vector<std::int64_t>>> dense = {
            {"attention.self.query", {H, H}}, {"attention.self.key", {H, H}}, {"attention.self.value", {H, H}},
            {"attention.output.dense", {H, H}}, {"intermediate.dense", {I, H}}, {"output.dense", {H, I}}};
        for (const auto& [name, shape] : dense) {
            add(p + name + ".weight", shape, 0.08f);
            add(p + name + ".bias", {shape[0]}, 0.05f);
        }
        for (const char* ln : {"attention.output.LayerNorm", "output.LayerNorm"}) {
            add(p + ln + ".weight", {H}, 0.2f, 1.0f);
            add(p + ln + ".bias", {H}, 0.1f);
        }
    }
    return sd;
}

// Writes tensors as safetensors (format: u64 header length, JSON header, data), storing them as
// "F32", "F16" or "BF16" (bf16 by truncating with round-to-nearest-even, as torch does).
inline void write_safetensors(const std::string& path, const std::vector<const Tensor*>& tensors,
                              const std::string& dtype, const std::string& prefix = "",
                              bool old_norm_names = false) {
    auto stored_name = [&](std::string n) {
        if (old_norm_names) {
            for (auto [from, to] : {std::pair<std::string, std::string>{"LayerNorm.weight", "LayerNorm.gamma"},
                                    {"LayerNorm.bias", "LayerNorm.beta"}})
                if (n.size() > from.size() && n.compare(n.size() - from.size(), from.size(), from) == 0)
                    n = n.substr(0, n.size() - from.size()) + to;
        }
        return prefix + n;
    };
    const std::size_t width = dtype == "F32" ? 4 : 2;
    nlohmann::ordered_json header;
    std::size_t offset = 0;
    for (const Tensor* t : tensors) {
        const std::size_t bytes = t->values.size() * width;
        header[stored_name(t->name)] = {{"dtype", dtype}, {"shape", t->shape}, {"data_offsets", {offset, offset + bytes}}};
        offset += bytes;
    }
    std::string h = header.dump();
    h.append((8 - h.size() % 8) % 8, ' ');
    std::ofstream out(path, std::ios::binary);
    const std::uint64_t len = h.size();
    out.write(reinterpret_cast<const char*>(&len), 8);
    out.write(h.data(), std::streamsize(h.size()));
    std::vector<std::uint16_t> narrow;
    for (const Tensor* t : tensors) {
        if (dtype == "F32") {
            out.write(reinterpret_cast<const char*>(t->values.data()), std::streamsize(t->values.size() * 4));
            continue;
        }
        narrow.resize(t->values.size());
        for (std::size_t i = 0; i < narrow.size(); ++i) {
            if (dtype == "F16") narrow[i] = micse::detail::float_to_half(t->values[i]);
            else {
                const std::uint32_t b = micse::detail::float_to_bits(t->values[i]);
                narrow[i] = std::uint16_t((b + 0x7fffu + ((b >> 16) & 1u)) >> 16);
            }
        }
        out.write(reinterpret_cast<const char*>(narrow.data()), std::streamsize(narrow.size() * 2));
    }
}

}  // namespace test::fullsize
