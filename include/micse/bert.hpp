#pragma once
// BertModel<T>: Hugging Face's BertModel in eval mode (Devlin et al. 2019; Vaswani et al. 2017),
// token ids in, hidden states out, for T = float (speed) or double (checks).
//
// The batch is packed: the real tokens of every sequence sit back to back in one
// [tokens, hidden] matrix, so the dense layers never touch padding; only attention looks at
// sequence boundaries. This gives exactly what a padded, masked batch gives for the real
// positions, because a masked score contributes exp(-inf) = 0 to the softmax.
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "error.hpp"
#include "gguf.hpp"
#include "weights.hpp"

namespace micse {

// Where each sequence's tokens sit in the packed matrix: rows [begin(s), begin(s) + length(s)).
struct PackedBatch {
    std::vector<std::int32_t> ids;         // every token id, sequence after sequence
    std::vector<Eigen::Index> offsets{0};  // offsets[s] .. offsets[s+1] are sequence s

    void add(const std::vector<std::int32_t>& seq) {
        ids.insert(ids.end(), seq.begin(), seq.end());
        offsets.push_back(Eigen::Index(ids.size()));
    }
    Eigen::Index sequences() const { return Eigen::Index(offsets.size()) - 1; }
    Eigen::Index tokens() const { return offsets.back(); }
    Eigen::Index begin(Eigen::Index s) const { return offsets[std::size_t(s)]; }
    Eigen::Index length(Eigen::Index s) const { return offsets[std::size_t(s) + 1] - offsets[std::size_t(s)]; }
};

namespace detail {

// Sets the OpenMP thread count for the calling thread only (an OpenMP ICV is per thread), and
// restores it on exit: no global state changes, concurrent callers do not disturb each other.
class ThreadScope {
public:
    explicit ThreadScope(int threads) {
#ifdef _OPENMP
        saved_ = omp_get_max_threads();
        if (threads > 0) omp_set_num_threads(threads);
#else
        (void)threads;
#endif
    }
    ~ThreadScope() {
#ifdef _OPENMP
        omp_set_num_threads(saved_);
#endif
    }
    ThreadScope(const ThreadScope&) = delete;
    ThreadScope& operator=(const ThreadScope&) = delete;

private:
    int saved_ = 1;
};

inline int max_threads() {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

}  // namespace detail

template <class T>
class BertModel {
public:
    using Matrix = RowMatrix<T>;

    explicit BertModel(const std::string& path) : BertModel(std::make_shared<const gguf::File>(path)) {}
    explicit BertModel(std::shared_ptr<const gguf::File> file) : w_(std::move(file)) {}

    const BertConfig& config() const { return w_.config; }
    const BertWeights<T>& weights() const { return w_; }

    // Checks that every id is a row of the embedding table and every sequence fits the position
    // table; the forward pass relies on both.
    void validate(const PackedBatch& batch) const {
        for (Eigen::Index s = 0; s < batch.sequences(); ++s) {
            const Eigen::Index n = batch.length(s);
            if (n < 1) throw Error("sequence " + std::to_string(s) + " is empty");
            if (n > config().max_position)
                throw Error("sequence " + std::to_string(s) + " has " + std::to_string(n) +
                            " tokens, the model's maximum is " + std::to_string(config().max_position));
            for (Eigen::Index t = batch.begin(s); t < batch.begin(s) + n; ++t) {
                const auto id = batch.ids[std::size_t(t)];
                if (id < 0 || id >= config().vocab_size)
                    throw Error("sequence " + std::to_string(s) + ", token " + std::to_string(t - batch.begin(s)) +
                                ": id " + std::to_string(id) + " is outside the vocabulary [0, " +
                                std::to_string(config().vocab_size) + ")");
            }
        }
    }

    // The last hidden state of every token, [tokens, hidden] in packed order. When `layers` is
    // given it receives the embedding output followed by every layer's output (PyTorch's
    // `output_hidden_states`), which lets a parity test point at the block that differs.
    Matrix forward(const PackedBatch& batch, int threads = 0, std::vector<Matrix>* layers = nullptr) const {
        validate(batch);
        detail::ThreadScope scope(threads);
        Matrix x = embed(batch);  // [tokens, hidden]
        if (layers) layers->assign(1, x);
        for (const LayerWeights<T>& layer : w_.layers) {
            x = encoder_layer(layer, batch, x);
            if (layers) layers->push_back(x);
        }
        return x;
    }

    // ---- the blocks, each as in the paper ------------------------------------------------------

    // word + position + token type (always type 0: one sentence per sequence), then LayerNorm.
    Matrix embed(const PackedBatch& batch) const {
        const Eigen::Index H = config().hidden_size;
        const auto& e = w_.embeddings;
        const ConstRowMatrixMap<T> word(e.word, config().vocab_size, H);              // [vocab, hidden]
        const ConstRowMatrixMap<T> position(e.position, config().max_position, H);    // [max_pos, hidden]
        const ConstRowMatrixMap<T> token_type(e.token_type, config().type_vocab_size, H);
        Matrix x(batch.tokens(), H);  // [tokens, hidden]
        for (Eigen::Index s = 0; s < batch.sequences(); ++s)
            for (Eigen::Index p = 0; p < batch.length(s); ++p) {
                const Eigen::Index t = batch.begin(s) + p;
                x.row(t) = word.row(batch.ids[std::size_t(t)]) + position.row(p) + token_type.row(0);
            }
        layer_norm(x, e.norm);
        return x;
    }

    // One transformer encoder layer (post-LayerNorm, as BERT has it).
    Matrix encoder_layer(const LayerWeights<T>& l, const PackedBatch& batch, const Matrix& x) const {
        Matrix h = self_attention(l, batch, x);  // [tokens, hidden]
        h += x;
        layer_norm(h, l.attention_norm);
        Matrix y = feed_forward(l, h);  // [tokens, hidden]
        y += h;
        layer_norm(y, l.output_norm);
        return y;
    }

    // Multi-head scaled dot-product attention, then the output projection.
    Matrix self_attention(const LayerWeights<T>& l, const PackedBatch& batch, const Matrix& x) const {
        const Matrix q = linear(x, l.query);  // [tokens, hidden], heads side by side
        const Matrix k = linear(x, l.key);
        const Matrix v = linear(x, l.value);
        const Eigen::Index heads = config().num_heads, d = config().head_dim();
        const T scale = T(1) / std::sqrt(T(d));
        Matrix context(x.rows(), x.cols());  // [tokens, hidden]
        const Eigen::Index jobs = batch.sequences() * heads;
#pragma omp parallel for schedule(dynamic)
        for (Eigen::Index job = 0; job < jobs; ++job) {
            const Eigen::Index s = job / heads, h = job % heads;
            const Eigen::Index begin = batch.begin(s), n = batch.length(s);
            Matrix scores = (q.block(begin, h * d, n, d) * k.block(begin, h * d, n, d).transpose()) * scale;  // [n, n]
            softmax_rows(scores);
            context.block(begin, h * d, n, d).noalias() = scores * v.block(begin, h * d, n, d);  // [n, d]
        }
        return linear(context, l.attention_output);
    }

    // GELU(x W1^T + b1) W2^T + b2, GELU in its exact erf form.
    Matrix feed_forward(const LayerWeights<T>& l, const Matrix& x) const {
        Matrix up = linear(x, l.ffn_up);  // [tokens, intermediate]
        gelu(up);
        return linear(up, l.ffn_down);  // [tokens, hidden]
    }

    // ---- elementwise pieces -----------------------------------------------------------------

    static Matrix linear(const Matrix& x, const LinearWeights<T>& l) {
        Matrix y(x.rows(), l.out);  // [tokens, out]
        y.noalias() = x * l.weight().transpose();
        y.rowwise() += l.bias().transpose();
        return y;
    }

    void layer_norm(Matrix& x, const LayerNormWeights<T>& n) const {
        const T eps = T(config().layer_norm_eps);
        const auto gamma = n.weight().transpose();
        const auto beta = n.bias().transpose();
        for (Eigen::Index r = 0; r < x.rows(); ++r) {
            auto row = x.row(r);
            const T mean = row.mean();
            row.array() -= mean;
            const T var = row.squaredNorm() / T(row.size());  // biased, as PyTorch's LayerNorm
            row *= T(1) / std::sqrt(var + eps);
            row = row.cwiseProduct(gamma) + beta;
        }
    }

    static void gelu(Matrix& x) {
        const T inv_sqrt2 = T(0.70710678118654752440084436210485);
        x = x.unaryExpr([inv_sqrt2](T v) { return T(0.5) * v * (T(1) + std::erf(v * inv_sqrt2)); });
    }

    static void softmax_rows(Matrix& s) {
        for (Eigen::Index r = 0; r < s.rows(); ++r) {
            auto row = s.row(r);
            row.array() = (row.array() - row.maxCoeff()).exp();
            row /= row.sum();
        }
    }

private:
    BertWeights<T> w_;
};

}  // namespace micse
