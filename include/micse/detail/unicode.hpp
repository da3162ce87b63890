#pragma once
// UTF-8 decoding and encoding, and the character properties the BERT tokenizer needs, looked up
// in the generated tables (unicode_tables.hpp; see tools/gen_unicode_tables.py).
//
// Invalid UTF-8 (stray continuation bytes, overlong forms, surrogates, code points above
// U+10FFFF, truncated sequences) is refused by the tokenizer before decoding, with the offset of
// the first bad byte (first_invalid_utf8): the reference takes only valid Unicode strings, and
// dropping bytes silently would embed a different text than the caller gave. decode_utf8 itself
// still never reads out of bounds: a bad byte decodes to U+FFFD and decoding resumes after it.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "unicode_tables.hpp"

namespace micse::detail::unicode {

enum Flag : std::uint8_t {
    kControl = 1 << 0,     // Cc, Cf, Co (not \t \n \r): dropped by clean_text
    kWhitespace = 1 << 1,  // White_Space, \t \n \r: becomes ' '
    kPunct = 1 << 2,       // ASCII punctuation or P*: split off by the pre-tokenizer
    kMn = 1 << 3,          // nonspacing mark: dropped when stripping accents
    kChinese = 1 << 4,     // CJK ideograph: surrounded by spaces
    kDecomp = 1 << 5,      // has a canonical decomposition
    kLower = 1 << 6,       // has a lowercase mapping
    kCombining = 1 << 7,   // canonical combining class > 0
};

inline constexpr char32_t kReplacement = 0xFFFD;

inline std::uint8_t flags(char32_t cp) {
    if (cp >= 0x110000) return 0;
    return unicode_tables::kStage2[std::size_t(unicode_tables::kStage1[cp >> 8]) * 256 + (cp & 0xFF)];
}

// Decodes the code point at s[i], advancing i; see the policy above for invalid input.
inline char32_t decode_utf8(std::string_view s, std::size_t& i) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) {
        ++i;
        return b0;
    }
    std::size_t len;
    char32_t cp, min;
    if ((b0 & 0xE0) == 0xC0) len = 2, cp = b0 & 0x1F, min = 0x80;
    else if ((b0 & 0xF0) == 0xE0) len = 3, cp = b0 & 0x0F, min = 0x800;
    else if ((b0 & 0xF8) == 0xF0) len = 4, cp = b0 & 0x07, min = 0x10000;
    else {
        ++i;
        return kReplacement;
    }
    if (i + len > s.size()) {
        ++i;
        return kReplacement;
    }
    for (std::size_t k = 1; k < len; ++k) {
        const auto b = static_cast<unsigned char>(s[i + k]);
        if ((b & 0xC0) != 0x80) {
            ++i;
            return kReplacement;
        }
        cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        ++i;
        return kReplacement;
    }
    i += len;
    return cp;
}

// The offset of the first byte of s that does not begin a well-formed UTF-8 sequence, or npos.
inline std::size_t first_invalid_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        if (static_cast<unsigned char>(s[i]) < 0x80) {  // ASCII: the common case, byte by byte
            ++i;
            continue;
        }
        const std::size_t at = i;
        if (decode_utf8(s, i) == kReplacement) {
            // U+FFFD written out (EF BF BD) is valid text; anything else that decoded to it was not
            if (!(i - at == 3 && static_cast<unsigned char>(s[at]) == 0xEF)) return at;
        }
    }
    return std::string_view::npos;
}

inline void append_utf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out += char(cp);
    } else if (cp < 0x800) {
        out += char(0xC0 | (cp >> 6));
        out += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += char(0xE0 | (cp >> 12));
        out += char(0x80 | ((cp >> 6) & 0x3F));
        out += char(0x80 | (cp & 0x3F));
    } else {
        out += char(0xF0 | (cp >> 18));
        out += char(0x80 | ((cp >> 12) & 0x3F));
        out += char(0x80 | ((cp >> 6) & 0x3F));
        out += char(0x80 | (cp & 0x3F));
    }
}

template <class Table>
const auto* find_entry(const Table& table, char32_t cp) {
    const auto* end = std::end(table);
    const auto* it = std::lower_bound(std::begin(table), end, cp, [](const auto& e, char32_t c) { return e.cp < c; });
    return (it != end && it->cp == cp) ? it : nullptr;
}

// Appends the full canonical decomposition of cp (cp itself when it has none).
template <class Out>
void decompose(char32_t cp, Out& out) {
    if (!(flags(cp) & kDecomp)) {
        out.push_back(cp);
        return;
    }
    if (cp >= 0xAC00 && cp <= 0xD7A3) {  // Hangul syllable, Unicode ch. 3.12
        const char32_t s = cp - 0xAC00;
        out.push_back(0x1100 + s / 588);
        out.push_back(0x1161 + (s % 588) / 28);
        if (s % 28) out.push_back(0x11A7 + s % 28);
        return;
    }
    const auto* e = find_entry(unicode_tables::kDecomposition, cp);
    for (std::uint8_t k = 0; k < e->length; ++k) out.push_back(unicode_tables::kDecompositionPool[e->offset + k]);
}

// Appends the lowercase of cp (full mapping: U+0130 gives two code points).
template <class Out>
void lowercase(char32_t cp, Out& out) {
    if (!(flags(cp) & kLower)) {
        out.push_back(cp);
        return;
    }
    const auto* e = find_entry(unicode_tables::kLowercase, cp);
    for (std::uint8_t k = 0; k < e->length; ++k) out.push_back(unicode_tables::kLowercasePool[e->offset + k]);
}

inline std::uint8_t combining_class(char32_t cp) {
    if (!(flags(cp) & kCombining)) return 0;
    return find_entry(unicode_tables::kCombiningClass, cp)->ccc;
}

}  // namespace micse::detail::unicode
