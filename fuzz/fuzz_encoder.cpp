// Encoder::encode_ids on arbitrary id sequences: ids out of range (negative too), empty
// sequences, sequences over max_length, batches that straddle batch_size. The model is the
// repository's sharp-weights fixture, converted at start-up. A batch the model can take must give
// one finite row per sequence; any other batch must give micse::Error, nothing else.
#include <convert/converter.hpp>
#include <micse/encoder.hpp>

#include "fuzz_common.hpp"

#ifndef MICSE_FIXTURES
#error "MICSE_FIXTURES: the path of tests/fixtures"
#endif

namespace {

const micse::Encoder& encoder(bool mean) {
    static const std::string path = [] {
        const std::string p = (micse::fuzz::scratch_dir() / "sharp.gguf").string();
        micse::convert::convert_checkpoint(std::string(MICSE_FIXTURES) + "/hf/sharp", p);
        return p;
    }();
    static const micse::Encoder cls(path, {0, micse::Pooling::cls, false, 1, 3});
    static const micse::Encoder mean_norm(path, {0, micse::Pooling::mean, true, 1, 3});
    return mean ? mean_norm : cls;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const micse::Encoder& enc = encoder(data[0] & 1);
    const int vocab = enc.config().vocab_size, max_length = enc.options().max_length;
    // Two bytes per id; 0xFFFF ends a sequence. Ids fall in [-50, vocab + 50), mostly valid.
    std::vector<std::vector<std::int32_t>> seqs(1);
    for (std::size_t i = 1; i + 1 < size; i += 2) {
        const unsigned u = unsigned(data[i]) | unsigned(data[i + 1]) << 8;
        if (u == 0xFFFF) seqs.emplace_back();
        else seqs.back().push_back(std::int32_t(u % unsigned(vocab + 100)) - 50);
    }
    if (data[0] & 2) seqs.clear();  // the empty batch
    bool valid = !seqs.empty();
    for (const auto& s : seqs) {
        valid = valid && !s.empty() && int(s.size()) <= max_length;
        for (const auto id : s) valid = valid && id >= 0 && id < vocab;
    }
    try {
        const Eigen::MatrixXf e = enc.encode_ids(seqs);
        micse::fuzz::require(valid, "a batch the model cannot take is refused");
        micse::fuzz::require(e.rows() == Eigen::Index(seqs.size()) && e.cols() == enc.dimension(), "one row per sequence");
        micse::fuzz::require(e.allFinite(), "finite embeddings");
    } catch (const micse::Error&) {
        micse::fuzz::require(!valid, "a batch the model can take is encoded");
    }
    return 0;
}
