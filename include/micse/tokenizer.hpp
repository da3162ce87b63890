#pragma once
// micse::Tokenizer: Hugging Face's BertTokenizerFast (the `tokenizers` library's BERT pipeline),
// token for token:
//
//   raw text ── special tokens typed in the text ([CLS], [SEP], ...) are matched first
//      │        (as written, before any normalisation), the text between them goes on:
//      ├─ BertNormalizer: clean_text (drop NUL, U+FFFD, Cc/Cf/Co; whitespace -> ' '),
//      │                  spaces around CJK ideographs, strip accents (NFD, drop Mn), lowercase
//      ├─ BertPreTokenizer: split on whitespace (dropped) and punctuation (kept, alone)
//      ├─ WordPiece: greedy longest match, "##" continuations, [UNK] for a word with no match
//      │             or more than max_input_chars_per_word characters
//   [CLS] pieces... [SEP], truncated to max_length by dropping pieces from the end.
//
// docs/tokenizer.md says which Unicode data each decision uses and why.
#include <cstdint>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "detail/unicode.hpp"
#include "error.hpp"
#include "gguf.hpp"
#include "vocab.hpp"

namespace micse {

struct TokenizerOptions {
    bool clean_text = true;
    bool handle_chinese_chars = true;
    bool lowercase = true;
    std::optional<bool> strip_accents;  // unset: follow lowercase, as BertTokenizerFast does
    int max_input_chars_per_word = 100;
    std::string continuing_subword_prefix = "##";
};

// A batch of id sequences padded to a rectangle, as transformers returns with padding=True.
struct BatchEncoding {
    std::vector<std::vector<std::int32_t>> input_ids;       // each [CLS] ... [SEP] then [PAD]s
    std::vector<std::vector<std::int32_t>> attention_mask;  // 1 for real tokens, 0 for padding
};

class Tokenizer {
public:
    // `tokens` in id order. Special tokens are the ones matched in raw text and never split.
    Tokenizer(std::vector<std::string> tokens, std::vector<std::string> special_tokens, TokenizerOptions options = {})
        : tokens_(std::make_shared<const std::vector<std::string>>(std::move(tokens))), options_(std::move(options)) {
        if (tokens_->empty()) throw Error("the vocabulary is empty");
        if (options_.max_input_chars_per_word < 1) throw Error("max_input_chars_per_word must be at least 1");
        const std::string& prefix = options_.continuing_subword_prefix;
        for (std::size_t i = 0; i < tokens_->size(); ++i) {
            const std::string_view t = (*tokens_)[i];
            const auto id = std::int32_t(i);
            // A token listed twice keeps its last id, as the reference's vocabulary map does.
            if (!prefix.empty() && t.size() > prefix.size() && t.substr(0, prefix.size()) == prefix)
                continuation_[t.substr(prefix.size())] = id;
            initial_[t] = id;
        }
        for (const auto& s : special_tokens) {
            const auto it = initial_.find(s);
            if (it == initial_.end()) throw Error("special token " + s + " is not in the vocabulary");
            if (!s.empty()) specials_.emplace_back(s, it->second);
        }
        cls_ = required("[CLS]");
        sep_ = required("[SEP]");
        unk_ = required("[UNK]");
        pad_ = initial_.count("[PAD]") ? initial_.at("[PAD]") : 0;
    }

    // The tokenizer a GGUF file carries (vocabulary and micse.tokenizer.* settings). A file
    // written by llama.cpp's converter has no settings: bert-base-uncased's are assumed.
    static Tokenizer from_gguf(const gguf::File& f) {
        std::vector<std::string> tokens = vocab::read_wordpiece_tokens(f);
        std::vector<std::string> specials;
        if (f.has("tokenizer.ggml.token_type")) {
            const auto types = f.get_int_array("tokenizer.ggml.token_type");
            if (types.size() != tokens.size())
                throw Error(f.path() + ": tokenizer.ggml.token_type has " + std::to_string(types.size()) +
                            " entries for " + std::to_string(tokens.size()) + " tokens");
            for (std::size_t i = 0; i < tokens.size(); ++i)
                if (types[i] == 3 && vocab::is_bracketed(tokens[i])) specials.push_back(tokens[i]);  // control
        } else {
            specials = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
        }
        TokenizerOptions o;
        o.lowercase = f.get_bool("micse.tokenizer.do_lower_case", true);
        if (f.has("micse.tokenizer.strip_accents")) o.strip_accents = f.get_bool("micse.tokenizer.strip_accents");
        o.handle_chinese_chars = f.get_bool("micse.tokenizer.tokenize_chinese_chars", true);
        o.max_input_chars_per_word = int(f.get_uint("micse.tokenizer.max_input_chars_per_word", 100));
        try {
            return Tokenizer(std::move(tokens), std::move(specials), o);
        } catch (const Error& e) {
            throw Error(f.path() + ": " + e.what());
        }
    }

    // A plain vocab.txt (one token per line), with bert-base-uncased's settings unless told.
    static Tokenizer from_vocab_file(const std::string& path, TokenizerOptions options = {}) {
        std::ifstream in(path, std::ios::binary);
        if (!in) throw Error(path + ": cannot open");
        std::vector<std::string> tokens;
        std::string line;
        while (std::getline(in, line)) {
            if (!line.empty() && line.back() == '\r') line.pop_back();
            tokens.push_back(line);
        }
        std::vector<std::string> specials;
        for (const char* s : {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"})
            for (const auto& t : tokens)
                if (t == s) {
                    specials.emplace_back(s);
                    break;
                }
        try {
            return Tokenizer(std::move(tokens), std::move(specials), std::move(options));
        } catch (const Error& e) {
            throw Error(path + ": " + e.what());
        }
    }

    const TokenizerOptions& options() const { return options_; }
    std::size_t vocab_size() const { return tokens_->size(); }
    const std::string& token(std::int32_t id) const { return tokens_->at(std::size_t(id)); }
    std::optional<std::int32_t> token_to_id(std::string_view t) const {
        const auto it = initial_.find(t);
        if (it == initial_.end()) return std::nullopt;
        return it->second;
    }
    std::int32_t cls_id() const { return cls_; }
    std::int32_t sep_id() const { return sep_; }
    std::int32_t unk_id() const { return unk_; }
    std::int32_t pad_id() const { return pad_; }

    // [CLS] pieces [SEP], at most max_length ids (the pieces beyond max_length - 2 are dropped).
    // Text that is not valid UTF-8 is an Error naming the first bad byte.
    std::vector<std::int32_t> encode(std::string_view text, int max_length = 512) const {
        if (max_length < 2) throw Error("max_length must be at least 2 ([CLS] and [SEP])");
        check_utf8(text);
        std::vector<std::int32_t> ids;
        ids.push_back(cls_);
        pieces(text, ids, std::size_t(max_length) - 1);
        ids.push_back(sep_);
        return ids;
    }

    // The word-piece ids of the text, without [CLS] and [SEP], untruncated.
    std::vector<std::int32_t> tokenize(std::string_view text) const {
        check_utf8(text);
        std::vector<std::int32_t> ids;
        pieces(text, ids, SIZE_MAX);
        return ids;
    }

    // Padded to the longest sequence of the batch, with attention masks.
    BatchEncoding encode_batch(const std::vector<std::string>& texts, int max_length = 512) const {
        BatchEncoding b;
        std::size_t longest = 0;
        for (const auto& t : texts) {
            b.input_ids.push_back(encode(t, max_length));
            longest = std::max(longest, b.input_ids.back().size());
        }
        for (auto& ids : b.input_ids) {
            std::vector<std::int32_t> mask(ids.size(), 1);
            mask.resize(longest, 0);
            ids.resize(longest, pad_);
            b.attention_mask.push_back(std::move(mask));
        }
        return b;
    }

    // The normaliser alone, as UTF-8 (what BertNormalizer.normalize_str gives).
    std::string normalize(std::string_view text) const {
        check_utf8(text);
        std::u32string cps;
        normalize_into(text, cps);
        std::string out;
        for (char32_t c : cps) detail::unicode::append_utf8(out, c);
        return out;
    }

private:
    static void check_utf8(std::string_view text) {
        const std::size_t bad = detail::unicode::first_invalid_utf8(text);
        if (bad != std::string_view::npos) {
            static const char* hex = "0123456789abcdef";
            const auto b = static_cast<unsigned char>(text[bad]);
            throw Error("invalid UTF-8 at byte " + std::to_string(bad) + " (0x" + hex[b >> 4] + hex[b & 15] + ")");
        }
    }

    std::int32_t required(const char* t) const {
        const auto it = initial_.find(t);
        if (it == initial_.end()) throw Error(std::string("the vocabulary has no ") + t + " token");
        return it->second;
    }

    // Appends the pieces of `text` to ids, stopping when ids holds `limit` entries.
    void pieces(std::string_view text, std::vector<std::int32_t>& ids, std::size_t limit) const {
        std::u32string normalized;
        std::string word;
        std::size_t start = 0;  // the part of text not yet handled
        while (start < text.size() && ids.size() < limit) {
            // The next special token typed in the text, leftmost, longest on a tie.
            std::size_t at = std::string_view::npos, len = 0;
            std::int32_t special = 0;
            for (std::size_t p = text.find('[', start); p != std::string_view::npos; p = text.find('[', p + 1)) {
                for (const auto& [s, id] : specials_)
                    if (s.size() > len && text.compare(p, s.size(), s) == 0) at = p, len = s.size(), special = id;
                if (at != std::string_view::npos) break;
            }
            const std::string_view plain = text.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start);
            normalize_into(plain, normalized);
            split_and_wordpiece(normalized, word, ids, limit);
            if (at == std::string_view::npos) break;
            if (ids.size() < limit) ids.push_back(special);
            start = at + len;
        }
        if (ids.size() > limit) ids.resize(limit);
    }

    // BertNormalizer over a piece of raw text (no special tokens inside).
    void normalize_into(std::string_view text, std::u32string& out) const {
        namespace u = detail::unicode;
        out.clear();
        const bool strip = options_.strip_accents.value_or(options_.lowercase);
        std::u32string decomposed;  // one character's NFD
        std::size_t i = 0;
        while (i < text.size()) {
            char32_t c = u::decode_utf8(text, i);
            const std::uint8_t f = u::flags(c);
            if (options_.clean_text) {
                if (c == 0 || c == u::kReplacement || (f & u::kControl)) continue;
                if (f & u::kWhitespace) c = U' ';
            }
            const bool spaced = options_.handle_chinese_chars && (f & u::kChinese);
            if (spaced) out.push_back(U' ');
            decomposed.clear();
            if (strip) u::decompose(c, decomposed);
            else decomposed.push_back(c);
            for (char32_t d : decomposed) {
                if (strip && (u::flags(d) & u::kMn)) continue;
                if (options_.lowercase) u::lowercase(d, out);
                else out.push_back(d);
            }
            if (spaced) out.push_back(U' ');
        }
        if (strip) canonical_order(out);
    }

    // NFD's canonical ordering: inside each run of combining characters, a stable sort by
    // combining class. The marks that would move most (Mn) are gone already when stripping, so
    // this rarely has anything to do.
    static void canonical_order(std::u32string& s) {
        namespace u = detail::unicode;
        for (std::size_t i = 0; i < s.size();) {
            if (!(u::flags(s[i]) & u::kCombining)) {
                ++i;
                continue;
            }
            std::size_t j = i;
            while (j < s.size() && (u::flags(s[j]) & u::kCombining)) ++j;
            if (j - i > 1)
                std::stable_sort(s.begin() + std::ptrdiff_t(i), s.begin() + std::ptrdiff_t(j), [](char32_t a, char32_t b) {
                    return u::combining_class(a) < u::combining_class(b);
                });
            i = j;
        }
    }

    // BertPreTokenizer, then WordPiece on every word.
    void split_and_wordpiece(const std::u32string& text, std::string& word, std::vector<std::int32_t>& ids,
                             std::size_t limit) const {
        namespace u = detail::unicode;
        word.clear();
        std::size_t chars = 0;
        auto flush = [&] {
            if (chars) wordpiece(word, chars, ids);
            word.clear();
            chars = 0;
        };
        for (char32_t c : text) {
            if (ids.size() >= limit) return;
            const std::uint8_t f = u::flags(c);
            if (f & u::kWhitespace) {
                flush();
            } else if (f & u::kPunct) {
                flush();
                u::append_utf8(word, c);
                chars = 1;
                flush();
            } else {
                u::append_utf8(word, c);
                ++chars;
            }
        }
        flush();
    }

    void wordpiece(const std::string& word, std::size_t chars, std::vector<std::int32_t>& ids) const {
        if (chars > std::size_t(options_.max_input_chars_per_word)) {
            ids.push_back(unk_);
            return;
        }
        const std::size_t first = ids.size();
        std::size_t start = 0;
        const std::string_view w = word;
        while (start < w.size()) {
            std::size_t end = w.size();
            std::int32_t found = -1;
            const auto& table = start == 0 ? initial_ : continuation_;
            while (end > start) {
                const auto it = table.find(w.substr(start, end - start));
                if (it != table.end()) {
                    found = it->second;
                    break;
                }
                do --end;  // back to the previous character boundary
                while (end > start && (static_cast<unsigned char>(w[end]) & 0xC0) == 0x80);
            }
            if (found < 0) {  // no piece fits here: the whole word is unknown
                ids.resize(first);
                ids.push_back(unk_);
                return;
            }
            ids.push_back(found);
            start = end;
        }
    }

    // Shared, so that copies of a Tokenizer keep the strings its maps' keys point into.
    std::shared_ptr<const std::vector<std::string>> tokens_;
    TokenizerOptions options_;
    std::unordered_map<std::string_view, std::int32_t> initial_;       // token -> id
    std::unordered_map<std::string_view, std::int32_t> continuation_;  // "##x" as "x" -> id
    std::vector<std::pair<std::string, std::int32_t>> specials_;
    std::int32_t cls_ = 0, sep_ = 0, unk_ = 0, pad_ = 0;
};

}  // namespace micse
