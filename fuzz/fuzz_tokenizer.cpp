// The tokenizer on arbitrary bytes (invalid UTF-8 included) with the real bert-base-uncased
// vocabulary, under each normalisation setting and any max_length. Ids must be in range, the
// sequence framed by [CLS] ... [SEP] and no longer than asked.
#include <micse/tokenizer.hpp>

#include "fuzz_common.hpp"

#ifndef MICSE_VOCAB
#error "MICSE_VOCAB: the path of bert-base-uncased-vocab.txt"
#endif

namespace {

const micse::Tokenizer& tokenizer(int variant) {
    static const micse::Tokenizer tokenizers[4] = {
        micse::Tokenizer::from_vocab_file(MICSE_VOCAB),
        micse::Tokenizer::from_vocab_file(MICSE_VOCAB, {true, true, false, std::nullopt, 100, "##"}),
        micse::Tokenizer::from_vocab_file(MICSE_VOCAB, {true, false, true, false, 100, "##"}),
        micse::Tokenizer::from_vocab_file(MICSE_VOCAB, {false, true, true, true, 5, "##"}),
    };
    return tokenizers[variant & 3];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const micse::Tokenizer& tok = tokenizer(data[0]);
    const int max_length = 2 + data[1] % 600;  // past 512 too: the tokenizer itself has no model limit
    const std::string_view text(reinterpret_cast<const char*>(data + 2), size - 2);
    const auto ids = tok.encode(text, max_length);
    micse::fuzz::require(ids.size() >= 2 && ids.size() <= std::size_t(max_length), "2 <= length <= max_length");
    micse::fuzz::require(ids.front() == tok.cls_id() && ids.back() == tok.sep_id(), "[CLS] first, [SEP] last");
    for (const auto id : ids)
        micse::fuzz::require(id >= 0 && std::size_t(id) < tok.vocab_size(), "ids inside the vocabulary");
    return 0;
}
