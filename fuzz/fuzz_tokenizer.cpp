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

// RFC 3629's table of well-formed byte sequences, written independently of the library's decoder.
bool well_formed_utf8(std::string_view s) {
    auto in = [](unsigned char b, unsigned lo, unsigned hi) { return b >= lo && b <= hi; };
    for (std::size_t i = 0; i < s.size();) {
        const auto b = [&](std::size_t k) { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u; };
        const unsigned char c = b(0);
        std::size_t n;
        if (c <= 0x7F) n = 1;
        else if (in(c, 0xC2, 0xDF)) n = in(b(1), 0x80, 0xBF) ? 2 : 0;
        else if (c == 0xE0) n = in(b(1), 0xA0, 0xBF) && in(b(2), 0x80, 0xBF) ? 3 : 0;
        else if (in(c, 0xE1, 0xEC) || in(c, 0xEE, 0xEF)) n = in(b(1), 0x80, 0xBF) && in(b(2), 0x80, 0xBF) ? 3 : 0;
        else if (c == 0xED) n = in(b(1), 0x80, 0x9F) && in(b(2), 0x80, 0xBF) ? 3 : 0;
        else if (c == 0xF0) n = in(b(1), 0x90, 0xBF) && in(b(2), 0x80, 0xBF) && in(b(3), 0x80, 0xBF) ? 4 : 0;
        else if (in(c, 0xF1, 0xF3)) n = in(b(1), 0x80, 0xBF) && in(b(2), 0x80, 0xBF) && in(b(3), 0x80, 0xBF) ? 4 : 0;
        else if (c == 0xF4) n = in(b(1), 0x80, 0x8F) && in(b(2), 0x80, 0xBF) && in(b(3), 0x80, 0xBF) ? 4 : 0;
        else n = 0;
        if (n == 0) return false;
        i += n;
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const micse::Tokenizer& tok = tokenizer(data[0]);
    const int max_length = 2 + data[1] % 600;  // past 512 too: the tokenizer itself has no model limit
    const std::string_view text(reinterpret_cast<const char*>(data + 2), size - 2);
    // Invalid UTF-8 is refused, and only invalid UTF-8 (checked against a plain validator).
    const bool valid = well_formed_utf8(text);
    std::vector<std::int32_t> ids;
    try {
        ids = tok.encode(text, max_length);
    } catch (const micse::Error& e) {
        micse::fuzz::require(!valid && std::string(e.what()).find("invalid UTF-8") != std::string::npos,
                             "only invalid UTF-8 is refused");
        return 0;
    }
    micse::fuzz::require(valid, "invalid UTF-8 is refused");
    micse::fuzz::require(ids.size() >= 2 && ids.size() <= std::size_t(max_length), "2 <= length <= max_length");
    micse::fuzz::require(ids.front() == tok.cls_id() && ids.back() == tok.sep_id(), "[CLS] first, [SEP] last");
    for (const auto id : ids)
        micse::fuzz::require(id >= 0 && std::size_t(id) < tok.vocab_size(), "ids inside the vocabulary");
    return 0;
}
