#pragma once
// BERT's shape and weights as read from a GGUF file in llama.cpp's BERT conventions.
//
// A weight is a view straight into the memory-mapped file when the file's type is the
// computation's type (F32 file, float model); otherwise (F16, BF16 or Q8_0 files, or a double
// model) it is widened once at load into memory the model owns. Either way the forward pass sees
// plain row-major Eigen maps with PyTorch's layout.
#include <Eigen/Core>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "detail/half.hpp"
#include "error.hpp"
#include "gguf.hpp"

namespace micse {

template <class T>
using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using ConstRowMatrixMap = Eigen::Map<const RowMatrix<T>>;
template <class T>
using ConstVectorMap = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, 1>>;

enum class Pooling { none = 0, mean = 1, cls = 2, last = 3 };

struct BertConfig {
    int vocab_size = 0;
    int hidden_size = 0;
    int num_layers = 0;
    int num_heads = 0;
    int intermediate_size = 0;
    int max_position = 0;  // max_position_embeddings, the longest sequence in tokens
    int type_vocab_size = 0;
    double layer_norm_eps = 1e-12;
    Pooling pooling = Pooling::cls;  // what the file asks for (miCSE: the [CLS] token)

    int head_dim() const { return hidden_size / num_heads; }
};

namespace detail {

// Widens `count` values of a stored tensor into T. Q8_0 is dequantised block by block.
template <class T>
void widen_tensor(const gguf::TensorInfo& t, T* out) {
    const std::uint8_t* p = t.data;
    const std::uint64_t n = t.n_elements;
    switch (t.type) {
        case gguf::TensorType::F32:
            for (std::uint64_t i = 0; i < n; ++i) {
                float f;
                std::memcpy(&f, p + 4 * i, 4);
                out[i] = T(f);
            }
            break;
        case gguf::TensorType::F16:
            for (std::uint64_t i = 0; i < n; ++i) {
                std::uint16_t h;
                std::memcpy(&h, p + 2 * i, 2);
                out[i] = T(half_to_float(h));
            }
            break;
        case gguf::TensorType::BF16:
            for (std::uint64_t i = 0; i < n; ++i) {
                std::uint16_t h;
                std::memcpy(&h, p + 2 * i, 2);
                out[i] = T(bf16_to_float(h));
            }
            break;
        case gguf::TensorType::Q8_0:
            for (std::uint64_t b = 0; b < n / gguf::kQ8BlockValues; ++b) {
                const std::uint8_t* block = p + b * gguf::kQ8BlockBytes;
                std::uint16_t d16;
                std::memcpy(&d16, block, 2);
                const float d = half_to_float(d16);
                for (std::uint64_t j = 0; j < gguf::kQ8BlockValues; ++j)
                    out[b * gguf::kQ8BlockValues + j] = T(d * float(static_cast<std::int8_t>(block[2 + j])));
            }
            break;
    }
}

}  // namespace detail

// The tensors of one file, as T. Keeps the mapping alive while views into it exist.
template <class T>
class TensorStore {
public:
    explicit TensorStore(std::shared_ptr<const gguf::File> file) : file_(std::move(file)) {}

    const gguf::File& file() const { return *file_; }

    // The tensor `name`, checked to have exactly the dimensions `ne` (ne[0] innermost).
    const T* get(const std::string& name, std::vector<std::uint64_t> ne) {
        const gguf::TensorInfo& t = file_->tensor(name);
        if (t.ne != ne) {
            auto show = [](const std::vector<std::uint64_t>& v) {
                std::string s = "{";
                for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
                return s + "}";
            };
            throw Error(file_->path() + ": tensor '" + name + "' has shape " + show(t.ne) + ", expected " + show(ne));
        }
        if constexpr (std::is_same_v<T, float>) {
            // Zero-copy: the data section is aligned, and F32 data is what the model computes in.
            if (t.type == gguf::TensorType::F32 && reinterpret_cast<std::uintptr_t>(t.data) % alignof(float) == 0)
                return reinterpret_cast<const float*>(t.data);
        }
        owned_.emplace_back(new T[t.n_elements]);
        T* out = owned_.back().get();
        detail::widen_tensor(t, out);
        for (std::uint64_t i = 0; i < t.n_elements; ++i)
            if (!std::isfinite(out[i]))
                throw Error(file_->path() + ": tensor '" + name + "' holds a non-finite value at element " +
                            std::to_string(i));
        return out;
    }

    std::size_t owned_tensor_count() const { return owned_.size(); }

private:
    std::shared_ptr<const gguf::File> file_;
    std::vector<std::unique_ptr<T[]>> owned_;
};

template <class T>
struct LinearWeights {
    const T* w = nullptr;  // [out][in], row-major as in PyTorch's nn.Linear
    const T* b = nullptr;  // [out]
    Eigen::Index out = 0, in = 0;

    ConstRowMatrixMap<T> weight() const { return ConstRowMatrixMap<T>(w, out, in); }
    ConstVectorMap<T> bias() const { return ConstVectorMap<T>(b, out); }
};

template <class T>
struct LayerNormWeights {
    const T* gamma = nullptr;  // [hidden]
    const T* beta = nullptr;   // [hidden]
    Eigen::Index size = 0;

    ConstVectorMap<T> weight() const { return ConstVectorMap<T>(gamma, size); }
    ConstVectorMap<T> bias() const { return ConstVectorMap<T>(beta, size); }
};

template <class T>
struct EmbeddingWeights {
    const T* word = nullptr;        // [vocab][hidden], row-major: one row per token id
    const T* position = nullptr;    // [max_position][hidden]
    const T* token_type = nullptr;  // [type_vocab][hidden]
    LayerNormWeights<T> norm;
};

template <class T>
struct LayerWeights {
    LinearWeights<T> query, key, value;  // each [hidden][hidden]
    LinearWeights<T> attention_output;   // [hidden][hidden]
    LayerNormWeights<T> attention_norm;
    LinearWeights<T> ffn_up;    // [intermediate][hidden]
    LinearWeights<T> ffn_down;  // [hidden][intermediate]
    LayerNormWeights<T> output_norm;
};

namespace detail {

inline int checked_int(const gguf::File& f, const std::string& key, std::uint64_t lo, std::uint64_t hi) {
    const std::uint64_t v = f.get_uint(key);
    if (v < lo || v > hi)
        throw Error(f.path() + ": metadata key '" + key + "' = " + std::to_string(v) + " is out of range [" +
                    std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return static_cast<int>(v);
}

}  // namespace detail

// Reads and checks the model's shape. Everything the forward pass relies on is verified here.
inline BertConfig read_bert_config(const gguf::File& f) {
    const std::string arch = f.has("general.architecture") ? f.get_string("general.architecture") : "";
    if (arch != "bert")
        throw Error(f.path() + ": general.architecture is '" + arch + "', micse runs only 'bert' models");
    BertConfig c;
    c.hidden_size = detail::checked_int(f, "bert.embedding_length", 1, 1 << 16);
    c.num_layers = detail::checked_int(f, "bert.block_count", 1, 1024);
    c.num_heads = detail::checked_int(f, "bert.attention.head_count", 1, 1024);
    c.intermediate_size = detail::checked_int(f, "bert.feed_forward_length", 1, 1 << 18);
    c.max_position = detail::checked_int(f, "bert.context_length", 2, 1 << 20);
    c.layer_norm_eps = f.get_float("bert.attention.layer_norm_epsilon");
    if (!(c.layer_norm_eps > 0) || !(c.layer_norm_eps < 1))
        throw Error(f.path() + ": bert.attention.layer_norm_epsilon must be in (0, 1)");
    if (c.hidden_size % c.num_heads != 0)
        throw Error(f.path() + ": the head count " + std::to_string(c.num_heads) +
                    " does not divide the hidden size " + std::to_string(c.hidden_size));
    if (f.get_bool("bert.attention.causal", false))
        throw Error(f.path() + ": bert.attention.causal is true; BERT attention is bidirectional");
    const std::uint64_t pooling = f.get_uint("bert.pooling_type", 2);  // absent: miCSE uses [CLS]
    if (pooling > 3) throw Error(f.path() + ": bert.pooling_type " + std::to_string(pooling) + " is unknown");
    c.pooling = static_cast<Pooling>(pooling);

    const gguf::TensorInfo& word = f.tensor("token_embd.weight");
    const gguf::TensorInfo& types = f.tensor("token_types.weight");
    if (word.ne.size() != 2 || types.ne.size() != 2)
        throw Error(f.path() + ": token_embd.weight and token_types.weight must be 2-D");
    c.vocab_size = static_cast<int>(word.ne[1]);
    c.type_vocab_size = static_cast<int>(types.ne[1]);
    return c;
}

// Every weight of the model, resolved and shape-checked against the config.
template <class T>
struct BertWeights {
    BertConfig config;
    EmbeddingWeights<T> embeddings;
    std::vector<LayerWeights<T>> layers;

    explicit BertWeights(std::shared_ptr<const gguf::File> file) : store_(std::move(file)) {
        config = read_bert_config(store_.file());
        const auto H = std::uint64_t(config.hidden_size), I = std::uint64_t(config.intermediate_size);
        embeddings.word = store_.get("token_embd.weight", {H, std::uint64_t(config.vocab_size)});
        embeddings.position = store_.get("position_embd.weight", {H, std::uint64_t(config.max_position)});
        embeddings.token_type = store_.get("token_types.weight", {H, std::uint64_t(config.type_vocab_size)});
        embeddings.norm = norm("token_embd_norm");
        for (int i = 0; i < config.num_layers; ++i) {
            const std::string p = "blk." + std::to_string(i) + ".";
            LayerWeights<T> l;
            l.query = linear(p + "attn_q", H, H);
            l.key = linear(p + "attn_k", H, H);
            l.value = linear(p + "attn_v", H, H);
            l.attention_output = linear(p + "attn_output", H, H);
            l.attention_norm = norm(p + "attn_output_norm");
            l.ffn_up = linear(p + "ffn_up", I, H);
            l.ffn_down = linear(p + "ffn_down", H, I);
            l.output_norm = norm(p + "layer_output_norm");
            layers.push_back(l);
        }
    }

    const gguf::File& file() const { return store_.file(); }
    // How many tensors were copied out of the mapping (0 for a float model on an F32 file).
    std::size_t copied_tensor_count() const { return store_.owned_tensor_count(); }

private:
    LinearWeights<T> linear(const std::string& name, std::uint64_t out, std::uint64_t in) {
        LinearWeights<T> l;
        l.w = store_.get(name + ".weight", {in, out});  // ne = {in, out}: PyTorch's [out][in] bytes
        l.b = store_.get(name + ".bias", {out});
        l.out = Eigen::Index(out);
        l.in = Eigen::Index(in);
        return l;
    }
    LayerNormWeights<T> norm(const std::string& name) {
        const auto H = std::uint64_t(config.hidden_size);
        return {store_.get(name + ".weight", {H}), store_.get(name + ".bias", {H}), Eigen::Index(H)};
    }

    TensorStore<T> store_;
};

}  // namespace micse
