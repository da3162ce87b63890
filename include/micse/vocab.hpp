#pragma once
// The WordPiece vocabulary and llama.cpp's "phantom space" form of it, which GGUF files carry:
// a bracketed control token ("[CLS]", "[unused0]") is kept as it is, a continuation piece "##x" is
// stored as "x", and every other token t as "\u2581" + t (U+2581 marks a word start).
#include <string>
#include <string_view>
#include <vector>

#include "error.hpp"
#include "gguf.hpp"

namespace micse::vocab {

inline constexpr std::string_view kWordStart = "\xE2\x96\x81";  // U+2581 in UTF-8

inline bool is_bracketed(std::string_view t) { return t.size() >= 2 && t.front() == '[' && t.back() == ']'; }

inline std::string to_phantom_space(std::string_view t) {
    if (is_bracketed(t)) return std::string(t);
    if (t.substr(0, 2) == "##") return std::string(t.substr(2));
    return std::string(kWordStart) + std::string(t);
}

inline std::string from_phantom_space(std::string_view t) {
    if (is_bracketed(t)) return std::string(t);
    if (t.substr(0, kWordStart.size()) == kWordStart) return std::string(t.substr(kWordStart.size()));
    return "##" + std::string(t);
}

// The WordPiece tokens of a GGUF file, in id order: the originals when the converter kept them
// (micse.tokenizer.wordpiece_tokens), else tokenizer.ggml.tokens turned back from phantom space.
inline std::vector<std::string> read_wordpiece_tokens(const gguf::File& f) {
    if (f.has("micse.tokenizer.wordpiece_tokens")) return f.get_string_array("micse.tokenizer.wordpiece_tokens");
    if (f.has("tokenizer.ggml.model") && f.get_string("tokenizer.ggml.model") != "bert")
        throw Error(f.path() + ": tokenizer.ggml.model is '" + f.get_string("tokenizer.ggml.model") +
                    "', not a BERT WordPiece vocabulary");
    std::vector<std::string> tokens = f.get_string_array("tokenizer.ggml.tokens");
    for (auto& t : tokens) t = from_phantom_space(t);
    return tokens;
}

}  // namespace micse::vocab
