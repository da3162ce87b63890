// The GGUF reader on arbitrary files, and everything a model file feeds: metadata, tensor
// directory, the BERT weights (views, F16 widening, packing), the tokenizer it carries, and one
// forward pass in float (fast path) and double (portable path) when the file gets that far.
#include <micse/micse.hpp>

#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string path = micse::fuzz::write_file("model.gguf", data, size);
    std::shared_ptr<const micse::gguf::File> file;
    try {
        file = std::make_shared<const micse::gguf::File>(path);
    } catch (const micse::Error&) {
        return 0;
    }
    // Every tensor the reader accepted lies inside the file.
    for (const auto& t : file->tensors())
        micse::fuzz::require(file->data_offset() <= file->size() && t.offset <= file->size() - file->data_offset() &&
                                 t.n_bytes <= file->size() - file->data_offset() - t.offset,
                             "an accepted tensor lies inside the file");
    try {
        micse::EncoderOptions options;
        options.threads = 1;
        const micse::Encoder encoder(path, options);
        const Eigen::MatrixXf e = encoder.encode({"a fuzzed model, tokenized", ""});
        micse::fuzz::require(e.rows() == 2 && e.cols() == encoder.dimension(), "one row per sentence");
    } catch (const micse::Error&) {
    }
    try {
        const micse::BertModel<double> model(file);
        micse::PackedBatch batch;
        batch.add({0, std::int32_t(model.config().vocab_size - 1)});
        const auto h = model.forward(batch, 1);
        micse::fuzz::require(h.rows() == 2 && h.cols() == model.config().hidden_size, "[tokens, hidden]");
    } catch (const micse::Error&) {
    }
    return 0;
}
