// Reference: Hugging Face's tokenizer itself — the npm package `tokenizers` (the Node binding of
// the Rust library BertTokenizerFast runs) on shared/vocab/tokenizer.json, via
// tests/tokenizer-reference/make_goldens.js. Goldens: tests/fixtures/tokenizer/.
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include <micse/micse.hpp>

#include "common.hpp"

using namespace micse;
namespace u = micse::detail::unicode;

namespace {

const Tokenizer& bert_base_uncased() {
    static const Tokenizer t = Tokenizer::from_vocab_file((test::shared() / "vocab" / "bert-base-uncased-vocab.txt").string());
    return t;
}

std::vector<std::string> lines_of(const test::fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::vector<std::string> v;
    for (std::string line; std::getline(in, line);) v.push_back(line);
    return v;
}

std::string utf8(char32_t cp) {
    std::string s;
    u::append_utf8(s, cp);
    return s;
}

std::string show(const std::vector<std::int32_t>& ids) {
    std::string s;
    for (auto id : ids) s += std::to_string(id) + " ";
    return s;
}

void check_corpus(const Tokenizer& t, const std::string& name, int max_length) {
    const auto texts = lines_of(test::fixtures() / "tokenizer" / (name + ".txt"));
    const auto golden = test::read_ids(test::fixtures() / "tokenizer" / (name + ".ids" + std::to_string(max_length)));
    REQUIRE(texts.size() == golden.size());
    int wrong = 0;
    for (std::size_t i = 0; i < texts.size(); ++i) {
        const auto ids = t.encode(texts[i], max_length);
        if (ids != golden[i] && ++wrong <= 5) {
            INFO(name << " line " << i + 1 << " at max_length " << max_length << ": " << texts[i]
                      << "\n  ours:      " << show(ids) << "\n  reference: " << show(golden[i]));
            CHECK(ids == golden[i]);
        }
    }
    CHECK(wrong == 0);
}

}  // namespace

TEST_CASE("every code point is normalised and split as the reference does", "[tokenizer][unicode]") {
    const Tokenizer& t = bert_base_uncased();
    std::map<char32_t, std::u32string> mapped;
    std::vector<std::tuple<char32_t, char32_t, char, char>> runs;
    for (const auto& line : lines_of(test::fixtures() / "tokenizer" / "codepoints.txt")) {
        std::istringstream in(line);
        std::string kind;
        in >> kind;
        if (kind == "R") {
            std::string lo, hi;
            char n, p;
            in >> lo >> hi >> n >> p;
            runs.emplace_back(char32_t(std::stoul(lo, nullptr, 16)), char32_t(std::stoul(hi, nullptr, 16)), n, p);
        } else {
            std::string cp, x;
            in >> cp;
            std::u32string out;
            while (in >> x) out.push_back(char32_t(std::stoul(x, nullptr, 16)));
            mapped[char32_t(std::stoul(cp, nullptr, 16))] = out;
        }
    }
    REQUIRE(runs.size() > 100);
    int wrong_norm = 0, wrong_split = 0;
    std::size_t checked = 0;
    for (const auto& [lo, hi, n, p] : runs)
        for (char32_t cp = lo; cp <= hi; ++cp) {
            const std::string c = utf8(cp);
            std::string expected;
            switch (n) {
                case 'I': expected = c; break;
                case 'S': expected = " " + c + " "; break;
                case 'D': expected = ""; break;
                case 'W': expected = " "; break;
                default:
                    for (char32_t m : mapped.at(cp)) expected += utf8(m);
            }
            const std::string got = t.normalize(c);
            if (got != expected && ++wrong_norm <= 10) {
                INFO("U+" << std::hex << std::uppercase << unsigned(cp) << " normalises differently");
                CHECK(got == expected);
            }
            const std::uint8_t f = u::flags(cp);
            const char split = (f & u::kWhitespace) ? '2' : (f & u::kPunct) ? '3' : '1';
            if (split != p && ++wrong_split <= 10) {
                INFO("U+" << std::hex << std::uppercase << unsigned(cp) << " pre-tokenizes differently");
                CHECK(split == p);
            }
            ++checked;
        }
    CHECK(checked == 0x110000 - 0x800);  // every code point but the surrogates
    CHECK(wrong_norm == 0);
    CHECK(wrong_split == 0);
}

TEST_CASE("ordinary English gives the reference's ids", "[tokenizer]") {
    check_corpus(bert_base_uncased(), "english", 512);
    check_corpus(bert_base_uncased(), "english", 32);
}

TEST_CASE("hard cases give the reference's ids", "[tokenizer]") {
    check_corpus(bert_base_uncased(), "hard", 512);
    check_corpus(bert_base_uncased(), "hard", 32);
}

TEST_CASE("random strings over every Unicode class give the reference's ids", "[tokenizer][unicode]") {
    check_corpus(bert_base_uncased(), "random", 512);
}

TEST_CASE("the tokenizer a GGUF carries equals the one from vocab.txt", "[tokenizer][gguf]") {
    // llama.cpp's file: phantom-space vocabulary, no micse settings (bert-base-uncased assumed)
    const gguf::File f((test::llamacpp() / "tiny-bert-f32.gguf").string());
    const Tokenizer t = Tokenizer::from_gguf(f);
    CHECK(t.vocab_size() == 30522);
    for (std::int32_t id = 0; id < 30522; ++id) REQUIRE(t.token(id) == bert_base_uncased().token(id));
    check_corpus(t, "hard", 512);
    CHECK(t.cls_id() == 101);
    CHECK(t.sep_id() == 102);
    CHECK(t.unk_id() == 100);
    CHECK(t.pad_id() == 0);
}

TEST_CASE("invalid UTF-8 is refused with the offset of the first bad byte", "[tokenizer][damaged]") {
    // The reference takes only valid strings (Python str, Rust String); micse refuses the rest
    // rather than dropping bytes and embedding a text the caller did not give.
    const Tokenizer& t = bert_base_uncased();
    for (const std::string bad : {"\x80", "\xff", "\xc3", "\xe2\x82", "\xf0\x9f\x98", "\xc0\xaf", "\xed\xa0\x80",
                                  "\xf4\x90\x80\x80", "\xfe\xfe"}) {
        INFO("bytes " << bad.size());
        CHECK_THROWS_WITH(t.encode("hello" + bad + " world"), Catch::Contains("invalid UTF-8 at byte 5"));
        CHECK_THROWS_AS(t.tokenize(bad), Error);
        CHECK_THROWS_AS(t.normalize(bad), Error);
    }
    CHECK_THROWS_WITH(t.encode("hel\x80lo"), Catch::Contains("byte 3 (0x80)"));
    // valid text next to the edges of the rules: the replacement character itself, the last
    // code point, the last before the surrogates, 2/3/4-byte forms at their minimum
    CHECK(t.encode("\xef\xbf\xbd \xf4\x8f\xbf\xbf \xed\x9f\xbf \xc2\x80 \xe0\xa0\x80 \xf0\x90\x80\x80").size() >= 2);
    // every byte string of length 1 to 3 over a set of interesting bytes: valid or refused
    const unsigned char bytes[] = {0x00, 0x20, 0x41, 0x5b, 0x7f, 0x80, 0xbf, 0xc2, 0xc3, 0xe0, 0xe2, 0xed, 0xf0, 0xf4, 0xf5, 0xff};
    for (auto a : bytes)
        for (auto b : bytes)
            for (auto c : bytes) {
                const std::string s{char(a), char(b), char(c)};
                try {
                    const auto ids = t.encode(s);
                    REQUIRE(ids.front() == 101);
                    REQUIRE(ids.back() == 102);
                } catch (const Error& e) {
                    REQUIRE(std::string(e.what()).find("invalid UTF-8") != std::string::npos);
                }
            }
}

TEST_CASE("truncation, batches and special ids", "[tokenizer]") {
    const Tokenizer& t = bert_base_uncased();
    CHECK(t.encode("") == std::vector<std::int32_t>{101, 102});
    CHECK(t.encode("one two three four five", 4) == std::vector<std::int32_t>{101, 2028, 2048, 102});
    CHECK(t.encode("one two", 2) == std::vector<std::int32_t>{101, 102});
    CHECK_THROWS_AS(t.encode("x", 1), Error);
    const BatchEncoding b = t.encode_batch({"hello", "hello world again", ""});
    REQUIRE(b.input_ids.size() == 3);
    CHECK(b.input_ids[0] == std::vector<std::int32_t>{101, 7592, 102, 0, 0});
    CHECK(b.attention_mask[0] == std::vector<std::int32_t>{1, 1, 1, 0, 0});
    CHECK(b.attention_mask[1] == std::vector<std::int32_t>{1, 1, 1, 1, 1});
    CHECK(b.input_ids[2] == std::vector<std::int32_t>{101, 102, 0, 0, 0});
}
