// Reference: Python's pickle opcodes (Lib/pickletools.py) and data.pkl files that torch.save
// itself wrote (tests/fixtures/hf/*/pytorch_model.bin). A pickle is data: any global beyond
// what a state dict needs is refused by name.
#include <catch2/catch.hpp>
#include <string>

#include "common.hpp"
#include "convert/checkpoint.hpp"
#include "convert/pickle.hpp"

using micse::convert::pickle::Object;
using micse::convert::pickle::Reader;

static micse::convert::pickle::Ref run(const std::string& bytes) {
    Reader r(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), "test.pkl");
    return r.run();
}

TEST_CASE("pickle: plain data builds", "[pickle]") {
    // protocol 2: {'a': (1, -2, 300, True), 'b': [None, 'x']}
    using namespace std::string_literals;  // the bytes hold NULs
    const std::string p = "\x80\x02}q\x00(X\x01\x00\x00\x00"s + "a" + "(K\x01J\xfe\xff\xff\xffM,\x01\x88t" +
                          "X\x01\x00\x00\x00"s + "b" + "]q\x01(N\x8c\x01x" + "eu.";
    const auto o = run(p);
    REQUIRE(o->kind == Object::Kind::Dict);
    REQUIRE(o->entries.size() == 2);
    CHECK(o->entries[0].first->s == "a");
    const auto& t = o->entries[0].second;
    REQUIRE(t->kind == Object::Kind::Tuple);
    REQUIRE(t->items.size() == 4);
    CHECK(t->items[0]->i == 1);
    CHECK(t->items[1]->i == -2);
    CHECK(t->items[2]->i == 300);
    CHECK(t->items[3]->kind == Object::Kind::Bool);
    REQUIRE(o->entries[1].second->items.size() == 2);
    CHECK(o->entries[1].second->items[1]->s == "x");
}

TEST_CASE("pickle: globals outside a state dict are refused by name", "[pickle]") {
    CHECK_THROWS_WITH(run("\x80\x02" "cos\nsystem\nX\x02\x00\x00\x00ls\x85R."), Catch::Contains("'os.system'"));
    CHECK_THROWS_WITH(run("\x80\x02" "cbuiltins\neval\n"), Catch::Contains("'builtins.eval'"));
    CHECK_THROWS_WITH(run("\x80\x04\x8c\x08" "builtins\x8c\x04" "exec\x93."), Catch::Contains("'builtins.exec'"));
    CHECK_THROWS_WITH(run("\x80\x02" "ctorch\nload\n"), Catch::Contains("'torch.load'"));
}

TEST_CASE("pickle: recursive containers are refused, shared ones are read", "[pickle]") {
    using namespace std::string_literals;
    // What Python's pickle.dumps(..., protocol=2) writes for each structure:
    // a = []; a.append(a)
    CHECK_THROWS_WITH(run("\x80\x02]q\x00h\x00"s + "a."), Catch::Contains("cannot contain itself"));
    // a = []; b = [a]; a.append(b)
    CHECK_THROWS_WITH(run("\x80\x02]q\x00]q\x01h\x00"s + "aa."), Catch::Contains("already inside another object"));
    // d = {}; d['k'] = [d]
    CHECK_THROWS_WITH(run("\x80\x02}q\x00X\x01\x00\x00\x00"s + "kq\x01]q\x02h\x00"s + "as."),
                      Catch::Contains("already inside another object"));
    // x = [1]; {'p': x, 'q': x}: one list under two keys is data, not a cycle
    const auto o = run("\x80\x02}q\x00(X\x01\x00\x00\x00"s + "pq\x01]q\x02K\x01" + "aX\x01\x00\x00\x00"s + "qq\x03h\x02u.");
    REQUIRE(o->entries.size() == 2);
    CHECK(o->entries[0].second == o->entries[1].second);
    CHECK(o->entries[1].second->items.at(0)->i == 1);
}

TEST_CASE("pickle: malformed programs are errors, never crashes", "[pickle]") {
    CHECK_THROWS_WITH(run(""), Catch::Contains("truncated"));
    CHECK_THROWS_WITH(run("\x80\x02}"), Catch::Contains("truncated"));
    CHECK_THROWS_WITH(run("\x80\x02" "t."), Catch::Contains("MARK"));
    CHECK_THROWS_WITH(run("\x80\x02" "a."), Catch::Contains("underflow"));
    CHECK_THROWS_WITH(run("\x80\x02h\x05."), Catch::Contains("memo entry 5"));
    CHECK_THROWS_WITH(run("\x80\x02" "i"), Catch::Contains("0x69"));  // INST: not in the subset
    CHECK_THROWS_WITH(run("\x80\x02" "K\x01K\x02."), Catch::Contains("STOP"));
    CHECK_THROWS_WITH(run("\x80\x02" "K\x01K\x02" "b."), Catch::Contains("BUILD on a int"));
    // Every prefix of a real torch.save pickle fails cleanly.
    micse::convert::detail::ZipArchive zip((test::hf_fixture("sharp") / "pytorch_model.bin").string());
    const auto pkl = zip.read("pytorch_model/data.pkl", 1 << 20);
    for (std::size_t n = 0; n < pkl.size(); ++n) {
        Reader r(pkl.data(), n, "prefix.pkl");
        REQUIRE_THROWS_AS(r.run(), micse::Error);
    }
    Reader whole(pkl.data(), pkl.size(), "whole.pkl");
    CHECK(whole.run()->kind == Object::Kind::Dict);
}

TEST_CASE("a torch.save state dict lists its tensors with storage views", "[pickle][convert]") {
    std::vector<micse::convert::SourceTensor> tensors;
    micse::convert::detail::read_torch_zip((test::hf_fixture("sharp") / "pytorch_model.bin").string(), tensors);
    REQUIRE(tensors.size() == 5 + 2 * 16);
    CHECK(tensors[0].name == "embeddings.word_embeddings.weight");
    CHECK(tensors[0].shape == std::vector<std::int64_t>{1000, 32});
    CHECK(tensors[0].dtype == "float32");
}
