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
#include <cstring>
#include <type_traits>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "detail/gemm.hpp"
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

#ifdef _OPENMP
private:
    int saved_ = 1;
#endif
};

inline int max_threads() {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

}  // namespace detail

// The buffers a forward pass works in. They only grow, so a workspace reused across calls
// (Encoder keeps a pool of them) makes the steady state allocate nothing of its own. They are
// 64-byte aligned: Eigen's reductions (LayerNorm's mean and variance) peel to an aligned
// address, so their rounding would otherwise depend on where malloc put a buffer, and the same
// input could give results that differ in the last bit from one call to the next.
struct Workspace {
    using Buffer = std::vector<float, Eigen::aligned_allocator<float>>;
    Buffer x, qkv, ctx, up, scratch, scores;
    Buffer cls_x, cls_q, cls_ctx;

    static float* fit(Buffer& v, std::size_t n) {
        if (v.size() < n) v.resize(n);
        return v.data();
    }
};

template <class T>
class BertModel {
public:
    using Matrix = RowMatrix<T>;

    explicit BertModel(const std::string& path) : BertModel(std::make_shared<const gguf::File>(path)) {}
    explicit BertModel(std::shared_ptr<const gguf::File> file) : w_(std::move(file)) {
#if MICSE_PACKED_GEMM
        if constexpr (std::is_same_v<T, float>) pack_layers();
#endif
    }

    // Which matrix-product kernel the dense layers use ("avx512", "avx2", or "eigen").
    static const char* kernel() {
        if constexpr (std::is_same_v<T, float>) return detail::gemm::kKernel;
        return "eigen";
    }

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
    Matrix forward(const PackedBatch& batch, int threads = 0, std::vector<Matrix>* layers = nullptr,
                   Workspace* workspace = nullptr) const {
        validate(batch);
        detail::ThreadScope scope(threads);
#if MICSE_PACKED_GEMM
        if constexpr (std::is_same_v<T, float>) {
            Workspace local;
            return fast_forward(batch, workspace ? *workspace : local, layers, false);
        }
#endif
        (void)workspace;
        Matrix x = embed(batch);  // [tokens, hidden]
        if (layers) layers->assign(1, x);
        for (const LayerWeights<T>& layer : w_.layers) {
            x = encoder_layer(layer, batch, x);
            if (layers) layers->push_back(x);
        }
        return x;
    }

    // The last hidden state of each sequence's first token ([CLS]), [sequences, hidden]. In the
    // last layer only [CLS] needs a query, the attention output and the feed-forward (keys and
    // values still come from every token), which the fast path exploits.
    Matrix forward_cls(const PackedBatch& batch, int threads = 0, Workspace* workspace = nullptr) const {
        validate(batch);
#if MICSE_PACKED_GEMM
        if constexpr (std::is_same_v<T, float>) {
            detail::ThreadScope scope(threads);
            Workspace local;
            return fast_forward(batch, workspace ? *workspace : local, nullptr, true);
        }
#endif
        const Matrix h = forward(batch, threads, nullptr, workspace);
        Matrix out(batch.sequences(), h.cols());
        for (Eigen::Index s = 0; s < batch.sequences(); ++s) out.row(s) = h.row(batch.begin(s));
        return out;
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

#if MICSE_PACKED_GEMM
    // ---- the fast path (float, packed weights) ------------------------------------------------
    // The same blocks as above on raw buffers: the dense layers through the packed kernel with
    // bias, residual and GELU fused, Q/K/V as one product, the feed-forward in row chunks (its
    // [rows, intermediate] buffer stays small and in cache).
    using Map = Eigen::Map<RowMatrix<float>>;
    using ConstMap = Eigen::Map<const RowMatrix<float>>;
    using StridedMap = Eigen::Map<RowMatrix<float>, 0, Eigen::OuterStride<>>;
    using ConstStridedMap = Eigen::Map<const RowMatrix<float>, 0, Eigen::OuterStride<>>;
    static constexpr int kChunk = 256;  // feed-forward rows at a time

    struct PackedLayer {
        detail::gemm::PackedLinear qkv;     // Q, K, V side by side, each from a panel boundary
        detail::gemm::PackedLinear output;  // attention output projection
        detail::gemm::PackedLinear up, down;
    };
    std::vector<PackedLayer> packed_;

    void pack_layers() {
        namespace g = detail::gemm;
        const int H = config().hidden_size, I = config().intermediate_size;
        const gguf::File& f = w_.file();
        for (int i = 0; i < config().num_layers; ++i) {
            const LayerWeights<float>& l = w_.layers[std::size_t(i)];
            PackedLayer p;
            p.qkv = g::pack({l.query.w, l.key.w, l.value.w}, {l.query.b, l.key.b, l.value.b}, {H, H, H}, H);
            p.output = g::pack({l.attention_output.w}, {l.attention_output.b}, {H}, H);
            p.up = g::pack({l.ffn_up.w}, {l.ffn_up.b}, {I}, H);
            p.down = g::pack({l.ffn_down.w}, {l.ffn_down.b}, {H}, I);
            packed_.push_back(std::move(p));
            // The packed copies replace the file's bytes: hand those pages back.
            const std::string b = "blk." + std::to_string(i) + ".";
            for (const char* n : {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_up", "ffn_down"})
                f.release(f.tensor(b + n + ".weight"));
        }
    }

    static void layer_norm_rows(float* x, Eigen::Index rows, Eigen::Index cols, const LayerNormWeights<float>& n,
                                float eps) {
        const auto gamma = n.weight().transpose();
        const auto beta = n.bias().transpose();
#pragma omp parallel for if (rows > 64)
        for (Eigen::Index r = 0; r < rows; ++r) {
            Eigen::Map<Eigen::RowVectorXf> row(x + r * cols, cols);
            const float mean = row.mean();
            row.array() -= mean;
            const float var = row.squaredNorm() / float(cols);
            row = (row * (1.0f / std::sqrt(var + eps))).cwiseProduct(gamma) + beta;
        }
    }

    // Attention of `rows` queries against one sequence's keys and values (all of one head).
    static void attend(const ConstStridedMap& q, const ConstStridedMap& k, const ConstStridedMap& v, float scale,
                       float* scores, StridedMap out) {
        Map s(scores, q.rows(), k.rows());  // [queries, keys]
        s.noalias() = q * k.transpose();
        for (Eigen::Index r = 0; r < s.rows(); ++r) {
            auto row = s.row(r);
            row.array() = ((row.array() - row.maxCoeff()) * scale).exp();
            row /= row.sum();
        }
        out.noalias() = s * v;
    }

    // The feed-forward block for `rows` rows, in place: h = LN(h + GELU(h W1^T + b1) W2^T + b2).
    // Chunk by chunk, the up-projection has read a chunk's rows before the down-projection adds
    // into them, so no second [rows, hidden] buffer is needed.
    void fast_feed_forward(const PackedLayer& p, const LayerWeights<float>& l, float* h, int rows, Workspace& ws) const {
        namespace g = detail::gemm;
        const int H = config().hidden_size;
        float* up = Workspace::fit(ws.up, std::size_t(std::min(rows, kChunk)) * std::size_t(p.up.width()));
        float* scratch = Workspace::fit(ws.scratch, g::scratch_floats(std::min(rows, kChunk), detail::max_threads()));
        for (int r0 = 0; r0 < rows; r0 += kChunk) {
            const int n = std::min(kChunk, rows - r0);
            g::linear(h + std::size_t(r0) * std::size_t(H), std::size_t(H), n, p.up, up, std::size_t(p.up.width()),
                      g::Epilogue::bias_gelu, scratch);
            g::linear(up, std::size_t(p.up.width()), n, p.down, h + std::size_t(r0) * std::size_t(H), std::size_t(H),
                      g::Epilogue::bias_residual, scratch);
        }
        layer_norm_rows(h, rows, H, l.output_norm, float(config().layer_norm_eps));
    }

    Matrix fast_forward(const PackedBatch& batch, Workspace& ws, std::vector<Matrix>* layers, bool cls_only) const {
        namespace g = detail::gemm;
        const int N = int(batch.tokens()), H = config().hidden_size, heads = config().num_heads, d = config().head_dim();
        const float scale = 1.0f / std::sqrt(float(d)), eps = float(config().layer_norm_eps);
        Eigen::Index longest = 0;
        for (Eigen::Index s = 0; s < batch.sequences(); ++s) longest = std::max(longest, batch.length(s));
        const int threads = detail::max_threads();

        float* x = Workspace::fit(ws.x, std::size_t(N) * std::size_t(H));  // [tokens, hidden]
        Map(x, N, H) = embed(batch);
        if (layers) layers->assign(1, Map(x, N, H));
        // one softmax slot per thread, each 64-byte aligned (see Workspace: the rounding of a row's
        // sum must not depend on which thread took the job)
        const std::size_t slot = (std::size_t(longest) * std::size_t(longest) + 15) / 16 * 16;
        float* scores = Workspace::fit(ws.scores, std::size_t(threads) * slot);
        const int L = config().num_layers;
        for (int i = 0; i < L; ++i) {
            const PackedLayer& p = packed_[std::size_t(i)];
            const LayerWeights<float>& l = w_.layers[std::size_t(i)];
            const int W3 = p.qkv.width(), k_col = p.qkv.first_panel[1] * g::kNR, v_col = p.qkv.first_panel[2] * g::kNR;
            float* qkv = Workspace::fit(ws.qkv, std::size_t(N) * std::size_t(W3));  // [tokens, Q | K | V]
            float* scratch = Workspace::fit(ws.scratch, g::scratch_floats(std::max(N, kChunk), detail::max_threads()));
            if (cls_only && i == L - 1) {
                // keys and values of every token; the rest for [CLS] alone
                g::linear(x, std::size_t(H), N, p.qkv, qkv + k_col, std::size_t(W3), g::Epilogue::bias, scratch,
                          p.qkv.first_panel[1], p.qkv.first_panel[3]);
                return fast_cls_layer(p, l, batch, x, qkv, W3, k_col, v_col, ws, longest);
            }
            g::linear(x, std::size_t(H), N, p.qkv, qkv, std::size_t(W3), g::Epilogue::bias, scratch);
            float* ctx = Workspace::fit(ws.ctx, std::size_t(N) * std::size_t(H));  // [tokens, hidden]
            const Eigen::Index jobs = batch.sequences() * heads;
#pragma omp parallel for schedule(dynamic)
            for (Eigen::Index job = 0; job < jobs; ++job) {
                const Eigen::Index s = job / heads, hd = job % heads, b = batch.begin(s), n = batch.length(s);
                const float* base = qkv + std::size_t(b) * std::size_t(W3) + std::size_t(hd * d);
#ifdef _OPENMP
                float* mine = scores + std::size_t(omp_get_thread_num()) * slot;
#else
                float* mine = scores;
#endif
                attend(ConstStridedMap(base, n, d, Eigen::OuterStride<>(W3)),
                       ConstStridedMap(base + k_col, n, d, Eigen::OuterStride<>(W3)),
                       ConstStridedMap(base + v_col, n, d, Eigen::OuterStride<>(W3)), scale, mine,
                       StridedMap(ctx + std::size_t(b) * std::size_t(H) + std::size_t(hd * d), n, d, Eigen::OuterStride<>(H)));
            }
            // x = LN(x + ctx Wo^T + bo): the residual is added where it already is
            g::linear(ctx, std::size_t(H), N, p.output, x, std::size_t(H), g::Epilogue::bias_residual, scratch);
            layer_norm_rows(x, N, H, l.attention_norm, eps);
            fast_feed_forward(p, l, x, N, ws);
            if (layers) layers->push_back(Map(x, N, H));
        }
        return Map(x, N, H);
    }

    // The last layer for the [CLS] rows only; keys and values (every token) are in qkv.
    Matrix fast_cls_layer(const PackedLayer& p, const LayerWeights<float>& l, const PackedBatch& batch, const float* x,
                          const float* qkv, int W3, int k_col, int v_col, Workspace& ws, Eigen::Index longest) const {
        namespace g = detail::gemm;
        const int S = int(batch.sequences()), H = config().hidden_size, heads = config().num_heads, d = config().head_dim();
        const float scale = 1.0f / std::sqrt(float(d)), eps = float(config().layer_norm_eps);
        float* xc = Workspace::fit(ws.cls_x, std::size_t(S) * std::size_t(H));  // [sequences, hidden]
        for (int s = 0; s < S; ++s)
            std::memcpy(xc + std::size_t(s) * std::size_t(H), x + std::size_t(batch.begin(s)) * std::size_t(H), sizeof(float) * std::size_t(H));
        const int qw = k_col;  // Q's padded width
        float* qc = Workspace::fit(ws.cls_q, std::size_t(S) * std::size_t(qw));
        float* scratch = Workspace::fit(ws.scratch, g::scratch_floats(std::max(S, kChunk), detail::max_threads()));
        g::linear(xc, std::size_t(H), S, p.qkv, qc, std::size_t(qw), g::Epilogue::bias, scratch, 0, p.qkv.first_panel[1]);
        float* ctx = Workspace::fit(ws.cls_ctx, std::size_t(S) * std::size_t(H));
        const std::size_t slot = (std::size_t(longest) + 15) / 16 * 16;  // aligned, as in fast_forward
        float* scores = Workspace::fit(ws.scores, std::size_t(detail::max_threads()) * slot);
        const Eigen::Index jobs = Eigen::Index(S) * heads;
#pragma omp parallel for schedule(dynamic)
        for (Eigen::Index job = 0; job < jobs; ++job) {
            const Eigen::Index s = job / heads, hd = job % heads, b = batch.begin(s), n = batch.length(s);
#ifdef _OPENMP
            float* mine = scores + std::size_t(omp_get_thread_num()) * slot;
#else
            float* mine = scores;
#endif
            const float* kv = qkv + std::size_t(b) * std::size_t(W3) + std::size_t(hd * d);
            attend(ConstStridedMap(qc + std::size_t(s) * std::size_t(qw) + std::size_t(hd * d), 1, d, Eigen::OuterStride<>(qw)),
                   ConstStridedMap(kv + k_col, n, d, Eigen::OuterStride<>(W3)),
                   ConstStridedMap(kv + v_col, n, d, Eigen::OuterStride<>(W3)), scale, mine,
                   StridedMap(ctx + std::size_t(s) * std::size_t(H) + std::size_t(hd * d), 1, d, Eigen::OuterStride<>(H)));
        }
        g::linear(ctx, std::size_t(H), S, p.output, xc, std::size_t(H), g::Epilogue::bias_residual, scratch);
        layer_norm_rows(xc, S, H, l.attention_norm, eps);
        fast_feed_forward(p, l, xc, S, ws);
        return Map(xc, S, H);
    }
#endif
};

}  // namespace micse
