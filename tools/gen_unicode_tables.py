#!/usr/bin/env python3
"""Generates include/micse/detail/unicode_tables.hpp from the Unicode Character Database.

    apt-get install unicode-data
    python3 tools/gen_unicode_tables.py > include/micse/detail/unicode_tables.hpp

Reads /usr/share/unicode/{UnicodeData,PropList,SpecialCasing,DerivedAge}.txt (or --ucd DIR).

What the BERT normalizer and pre-tokenizer of Hugging Face's `tokenizers` decide, and from which
data (see docs/tokenizer.md):
  - control (dropped by clean_text): general category Cc, Cf or Co, but not \\t \\n \\r;
  - whitespace (turned into ' '): the White_Space property, plus \\t \\n \\r;
  - punctuation (split off by the pre-tokenizer): ASCII punctuation, or category Pc Pd Pe Pf Pi Po Ps;
  - accents (dropped after NFD): category Mn;
  - NFD: full canonical decomposition (Hangul by the algorithm), then canonical ordering;
  - lowercase: the unconditional full lowercase mapping (UnicodeData + SpecialCasing).

The reference mixes Unicode versions, and micse matches it decision by decision:
  - categories (control, punctuation, Mn) come from the `unicode_categories` crate, whose tables
    are Unicode 8.0: a code point assigned later counts as unassigned (Cn), and the few whose
    category changed since then keep their 8.0 category (CATEGORY_BEFORE below);
  - NFD comes from tables of Unicode 12.1: later characters do not decompose (the only one with
    a decomposition by 15.0 is U+11938, new in 13.0);
  - whitespace and lowercase come from Rust's standard library, Unicode 16.0: Debian's UCD is
    15.0, so the case pairs new in 16.0 are listed below (LOWERCASE_16).
tests/test_tokenizer.cpp compares every code point with the reference.
"""
import argparse
import os
import sys

MAX_CP = 0x110000

# flag bits, mirrored in unicode.hpp
CONTROL, WHITESPACE, PUNCT, MN, CHINESE, DECOMP, LOWER, CCC = (1 << i for i in range(8))

# The CJK ideograph ranges that the reference's BertNormalizer surrounds with spaces.
CHINESE_RANGES = [(0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
                  (0x2B740, 0x2B81F), (0x2B920, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)]


# Categories that changed after Unicode 8.0, for the decisions that depend on them: code point ->
# its category in 8.0 (the version it changed in, from the Unicode release notes).
CATEGORY_BEFORE = {
    0x166D: "Po",  # CANADIAN SYLLABICS CHI SIGN, So since 12.0
    0x111C9: "Po",  # SHARADA SANDHI MARK, Mn since 11.0
    0x1734: "Mn",  # HANUNOO SIGN PAMUDPOD, Mc since 14.0
    0x1885: "Lo",  # MONGOLIAN LETTER ALI GALI BALUDA, Mn since 9.0
    0x1886: "Lo",  # MONGOLIAN LETTER ALI GALI THREE BALUDA, Mn since 9.0
    0xA9BD: "Mc",  # JAVANESE CONSONANT SIGN KERET, Mn since 12.0
}

# Lowercase mappings of the capital letters new in Unicode 16.0 (UnicodeData.txt 16.0, field 13).
LOWERCASE_16 = {0x1C89: 0x1C8A, 0xA7CB: 0x0264, 0xA7CC: 0xA7CD, 0xA7CE: 0xA7CF, 0xA7D2: 0xA7D3,
                0xA7D4: 0xA7D5, 0xA7DA: 0xA7DB, 0xA7DC: 0x019B}
LOWERCASE_16.update({cp: cp + 0x20 for cp in range(0x10D50, 0x10D66)})  # GARAY CAPITAL LETTER A..
LOWERCASE_16.update({cp: cp + 0x1B for cp in range(0x16EA0, 0x16EB9)})  # BERIA ERFE CAPITAL LETTER ..


def parse_version(s):
    return tuple(int(x) for x in s.split("."))


def read_unicode_data(path):
    """cp -> (category, ccc, decomposition field, simple lowercase); ranges expanded."""
    out, first = {}, None
    with open(path, encoding="utf-8") as f:
        for line in f:
            fields = line.rstrip("\n").split(";")
            cp = int(fields[0], 16)
            name, cat, ccc, dec, lower = fields[1], fields[2], int(fields[3]), fields[5], fields[13]
            rec = (cat, ccc, dec, int(lower, 16) if lower else None)
            if name.endswith(", First>"):
                first = cp
                continue
            if name.endswith(", Last>"):
                for c in range(first, cp + 1):
                    out[c] = (cat, ccc, "", None)
                continue
            out[cp] = rec
    return out


def read_ranges(path, wanted=None):
    """'XXXX..YYYY ; value # ...' lines -> list of (lo, hi, value)."""
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            rng, value = (x.strip() for x in line.split(";")[:2])
            if wanted and value != wanted:
                continue
            lo, _, hi = rng.partition("..")
            out.append((int(lo, 16), int(hi or lo, 16), value))
    return out


def read_special_lowercase(path):
    """Unconditional SpecialCasing entries whose lowercase differs from the simple mapping."""
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            fields = [x.strip() for x in line.split(";")]
            if len(fields) >= 5 and fields[4]:  # a condition list: context- or language-dependent
                continue
            cp = int(fields[0], 16)
            out[cp] = [int(x, 16) for x in fields[1].split()]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ucd", default="/usr/share/unicode")
    ap.add_argument("--category-age", default="8.0",
                    help="Unicode version of the reference's category tables (default 8.0)")
    ap.add_argument("--decomposition-age", default="12.1",
                    help="Unicode version of the reference's NFD tables (default 12.1)")
    args = ap.parse_args()
    ucd = args.ucd
    cat_age = parse_version(args.category_age)
    dec_age = parse_version(args.decomposition_age)

    data = read_unicode_data(os.path.join(ucd, "UnicodeData.txt"))
    white = read_ranges(os.path.join(ucd, "PropList.txt"), "White_Space")
    special = read_special_lowercase(os.path.join(ucd, "SpecialCasing.txt"))
    age = {}
    for lo, hi, v in read_ranges(os.path.join(ucd, "DerivedAge.txt")):
        for c in range(lo, hi + 1):
            age[c] = parse_version(v)
    with open(os.path.join(ucd, "ReadMe.txt"), encoding="utf-8") as f:
        ucd_version = next((l.split("Version")[1].split()[0] for l in f if "Version" in l), "unknown")

    def category_for_reference(cp):
        rec = data.get(cp)
        if rec is None or age.get(cp, (99,)) > cat_age:
            return "Cn"
        return CATEGORY_BEFORE.get(cp, rec[0])

    # Full canonical decomposition.
    def decompose(cp):
        if 0xAC00 <= cp <= 0xD7A3:  # Hangul syllable: the algorithm of Unicode ch. 3.12
            s = cp - 0xAC00
            l, v, t = 0x1100 + s // 588, 0x1161 + (s % 588) // 28, 0x11A7 + s % 28
            return [l, v] + ([t] if t != 0x11A7 else [])
        rec = data.get(cp)
        if not rec or not rec[2] or rec[2].startswith("<") or age.get(cp, (99,)) > dec_age:
            return [cp]
        out = []
        for x in rec[2].split():
            out += decompose(int(x, 16))
        return out

    flags = bytearray(MAX_CP)
    decomp, lower, ccc = {}, {}, {}
    for cp in range(MAX_CP):
        f = 0
        cat = category_for_reference(cp)
        if cat in ("Cc", "Cf", "Co") and cp not in (0x09, 0x0A, 0x0D):
            f |= CONTROL
        if cp in (0x09, 0x0A, 0x0D) or any(lo <= cp <= hi for lo, hi, _ in white):
            f |= WHITESPACE
        if (cp < 0x80 and chr(cp) in "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~") or cat in ("Pc", "Pd", "Pe", "Pf", "Pi", "Po", "Ps"):
            f |= PUNCT
        if cat == "Mn":
            f |= MN
        if any(lo <= cp <= hi for lo, hi in CHINESE_RANGES):
            f |= CHINESE
        d = decompose(cp)
        if d != [cp]:
            f |= DECOMP
            if not 0xAC00 <= cp <= 0xD7A3:  # Hangul syllables decompose by the algorithm at run time
                decomp[cp] = d
        rec = data.get(cp)
        lo_map = special.get(cp) or ([rec[3]] if rec and rec[3] is not None else None)
        if cp in LOWERCASE_16:
            assert lo_map is None, "U+%04X has a lowercase in this UCD already" % cp
            lo_map = [LOWERCASE_16[cp]]
        if lo_map and lo_map != [cp]:
            f |= LOWER
            lower[cp] = lo_map
        if rec and rec[1]:
            f |= CCC
            ccc[cp] = rec[1]
        flags[cp] = f

    # Two-stage table: stage1[cp >> 8] is the index of a 256-entry block of flags in stage2.
    blocks, stage1, index = [], [], {}
    for b in range(MAX_CP >> 8):
        block = bytes(flags[b << 8:(b + 1) << 8])
        if block not in index:
            index[block] = len(blocks)
            blocks.append(block)
        stage1.append(index[block])

    def pool_table(mapping):
        entries, pool = [], []
        for cp in sorted(mapping):
            entries.append((cp, len(pool), len(mapping[cp])))
            pool += mapping[cp]
        return entries, pool

    dec_entries, dec_pool = pool_table(decomp)
    low_entries, low_pool = pool_table(lower)

    w = sys.stdout.write
    w("#pragma once\n")
    w("// GENERATED by tools/gen_unicode_tables.py from the Unicode Character Database %s\n" % ucd_version)
    w("// (Debian's unicode-data); categories as of Unicode %s, decompositions as of %s, lowercase\n"
      "// with the additions of 16.0. Do not edit; regenerate:\n" % (args.category_age, args.decomposition_age))
    w("//   python3 tools/gen_unicode_tables.py > include/micse/detail/unicode_tables.hpp\n")
    w("#include <cstdint>\n\nnamespace micse::detail::unicode_tables {\n\n")
    w("inline constexpr const char* kUcdVersion = \"%s\";\n" % ucd_version)
    w("inline constexpr const char* kCategoryVersion = \"%s\";\n\n" % args.category_age)

    def array(ctype, name, values, per_line=16, fmt="%d"):
        w("inline constexpr %s %s[%d] = {\n" % (ctype, name, len(values)))
        for i in range(0, len(values), per_line):
            w("    " + ", ".join(fmt % v for v in values[i:i + per_line]) + ",\n")
        w("};\n\n")

    array("std::uint16_t", "kStage1", stage1)
    array("std::uint8_t", "kStage2", [v for b in blocks for v in b], per_line=32)

    w("struct Mapping {\n    std::uint32_t cp;\n    std::uint16_t offset;\n    std::uint8_t length;\n};\n\n")
    for name, entries, pool in [("kDecomposition", dec_entries, dec_pool), ("kLowercase", low_entries, low_pool)]:
        assert len(pool) < 65536 and max(e[2] for e in entries) < 256
        w("inline constexpr Mapping %s[%d] = {\n" % (name, len(entries)))
        for i in range(0, len(entries), 6):
            w("    " + " ".join("{0x%X, %d, %d}," % e for e in entries[i:i + 6]) + "\n")
        w("};\n\n")
        array("std::uint32_t", name + "Pool", pool, per_line=12, fmt="0x%X")
    ccc_items = sorted(ccc.items())
    w("struct CombiningClass {\n    std::uint32_t cp;\n    std::uint8_t ccc;\n};\n\n")
    w("inline constexpr CombiningClass kCombiningClass[%d] = {\n" % len(ccc_items))
    for i in range(0, len(ccc_items), 8):
        w("    " + " ".join("{0x%X, %d}," % e for e in ccc_items[i:i + 8]) + "\n")
    w("};\n\n}  // namespace micse::detail::unicode_tables\n")


if __name__ == "__main__":
    main()
