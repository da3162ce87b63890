#pragma once
// micse::Encoder: sentences (or token ids) in, one sentence embedding per row out.
// The embedding is the final hidden state of [CLS] unless options or the file say otherwise.
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "bert.hpp"
#include "error.hpp"
#include "gguf.hpp"
#include "tokenizer.hpp"

namespace micse {

struct EncoderOptions {
    int max_length = 0;              // 0: the model's maximum (512 for miCSE)
    std::optional<Pooling> pooling;  // unset: what the file says (miCSE: cls)
    bool normalize = false;          // scale each embedding to unit length
    int threads = 0;                 // 0: all cores (OpenMP's default)
    int batch_size = 32;             // sequences per forward pass
};

inline Pooling parse_pooling(const std::string& name) {
    if (name == "cls") return Pooling::cls;
    if (name == "mean") return Pooling::mean;
    throw Error("unknown pooling '" + name + "' (cls or mean)");
}

class Encoder {
public:
    explicit Encoder(const std::string& model_path, EncoderOptions options = {})
        : file_(std::make_shared<const gguf::File>(model_path)), model_(file_), options_(options) {
        const int max_pos = model_.config().max_position;
        if (options_.max_length == 0) options_.max_length = max_pos;
        if (options_.max_length < 2 || options_.max_length > max_pos)
            throw Error("max_length " + std::to_string(options_.max_length) + " is outside [2, " +
                        std::to_string(max_pos) + "], the range this model allows");
        if (options_.batch_size < 1) throw Error("batch_size must be at least 1");
        if (options_.threads < 0) throw Error("threads must be 0 (all cores) or more");
        if (!options_.pooling) options_.pooling = model_.config().pooling;
        if (*options_.pooling != Pooling::cls && *options_.pooling != Pooling::mean)
            throw Error(model_path + ": pooling type " + std::to_string(int(*options_.pooling)) +
                        " is not supported (cls or mean)");
        if (file_->has("tokenizer.ggml.tokens")) {
            tokenizer_ = Tokenizer::from_gguf(*file_);
            if (tokenizer_->vocab_size() != std::size_t(model_.config().vocab_size))
                throw Error(model_path + ": the vocabulary has " + std::to_string(tokenizer_->vocab_size()) +
                            " tokens, the embedding table " + std::to_string(model_.config().vocab_size) + " rows");
        }
    }

    // The file's tokenizer; a model file without a vocabulary has none.
    const Tokenizer& tokenizer() const {
        if (!tokenizer_) throw Error(file_->path() + ": the model file has no vocabulary (tokenizer.ggml.tokens)");
        return *tokenizer_;
    }

    // One embedding per sentence, [sentences, hidden]: tokenized as BertTokenizerFast does, with
    // [CLS] and [SEP], truncated to max_length tokens.
    Eigen::MatrixXf encode(const std::vector<std::string>& sentences) const {
        const Tokenizer& tok = tokenizer();
        std::vector<std::vector<std::int32_t>> ids;
        ids.reserve(sentences.size());
        for (const auto& s : sentences) ids.push_back(tok.encode(s, options_.max_length));
        return encode_ids(ids);
    }

    const BertConfig& config() const { return model_.config(); }
    const EncoderOptions& options() const { return options_; }
    const BertModel<float>& model() const { return model_; }
    int dimension() const { return model_.config().hidden_size; }

    // One embedding per sequence of token ids, [sequences, hidden]. Each sequence is used as it
    // is (it already holds [CLS] ... [SEP]); one longer than max_length is an error.
    Eigen::MatrixXf encode_ids(const std::vector<std::vector<std::int32_t>>& sequences) const {
        // An empty batch is almost always an input that was lost on the way (an empty file, a
        // filter that dropped everything); a 0-row matrix would pass that silently downstream.
        if (sequences.empty()) throw Error("the batch is empty: there is nothing to encode");
        for (std::size_t i = 0; i < sequences.size(); ++i)
            if (sequences[i].size() > std::size_t(options_.max_length))
                throw Error("sequence " + std::to_string(i) + " has " + std::to_string(sequences[i].size()) +
                            " tokens, more than max_length " + std::to_string(options_.max_length));
        Eigen::MatrixXf out(Eigen::Index(sequences.size()), dimension());
        for (std::size_t first = 0; first < sequences.size(); first += std::size_t(options_.batch_size)) {
            const std::size_t last = std::min(sequences.size(), first + std::size_t(options_.batch_size));
            PackedBatch batch;
            for (std::size_t i = first; i < last; ++i) batch.add(sequences[i]);
            try {
                model_.validate(batch);
            } catch (const Error& e) {
                throw Error(std::string(e.what()) + " (batch starting at input " + std::to_string(first) + ")");
            }
            const Lease ws(*this);
            if (*options_.pooling == Pooling::cls) {
                const RowMatrix<float> cls = model_.forward_cls(batch, options_.threads, ws.get());  // [sequences, hidden]
                for (Eigen::Index s = 0; s < batch.sequences(); ++s) out.row(Eigen::Index(first) + s) = finish(cls.row(s));
            } else {
                const RowMatrix<float> hidden = model_.forward(batch, options_.threads, nullptr, ws.get());  // [tokens, hidden]
                for (Eigen::Index s = 0; s < batch.sequences(); ++s)
                    out.row(Eigen::Index(first) + s) = finish(hidden.middleRows(batch.begin(s), batch.length(s)).colwise().mean());
            }
        }
        return out;
    }

private:
    // A workspace borrowed from the pool for one call: concurrent calls each get their own, and
    // buffers are reused, not reallocated, from one call to the next.
    class Lease {
    public:
        explicit Lease(const Encoder& e) : e_(e) {
            std::lock_guard<std::mutex> lock(e_.pool_mutex_);
            if (e_.pool_.empty()) {
                ws_ = std::make_unique<Workspace>();
            } else {
                ws_ = std::move(e_.pool_.back());
                e_.pool_.pop_back();
            }
        }
        ~Lease() {
            std::lock_guard<std::mutex> lock(e_.pool_mutex_);
            e_.pool_.push_back(std::move(ws_));
        }
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        Workspace* get() const { return ws_.get(); }

    private:
        const Encoder& e_;
        std::unique_ptr<Workspace> ws_;
    };

    template <class Row>
    Eigen::RowVectorXf finish(const Row& row) const {
        Eigen::RowVectorXf v = row;
        if (options_.normalize) {
            const float norm = v.norm();
            if (norm > 0) v /= norm;
        }
        return v;
    }

    std::shared_ptr<const gguf::File> file_;
    BertModel<float> model_;
    EncoderOptions options_;
    std::optional<Tokenizer> tokenizer_;
    mutable std::mutex pool_mutex_;
    mutable std::vector<std::unique_ptr<Workspace>> pool_;
};

// Cosine of the angle between two embeddings; 0 when either is the zero vector.
template <class A, class B>
float cosine_similarity(const Eigen::MatrixBase<A>& a, const Eigen::MatrixBase<B>& b) {
    const double na = a.template cast<double>().norm(), nb = b.template cast<double>().norm();
    if (na == 0 || nb == 0) return 0.0f;
    return float(a.template cast<double>().cwiseProduct(b.template cast<double>()).sum() / (na * nb));
}

}  // namespace micse
