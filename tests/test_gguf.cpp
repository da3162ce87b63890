// Reference: the GGUF v3 specification (ggml docs/gguf.md), and a file that llama.cpp's own
// converter wrote (shared/fixtures/llamacpp-bert). Damaged files must raise micse::Error.
#include <catch2/catch.hpp>
#include <cstring>
#include <random>

#include <micse/gguf.hpp>

#include "common.hpp"

using namespace micse;

namespace {

// A small valid file: a few metadata values of every kind and two tensors.
void write_sample(const std::string& path, std::uint32_t alignment = 32) {
    gguf::Writer w(alignment);
    w.set("general.architecture", gguf::Value::string("bert"));
    w.set("a.u32", gguf::Value::u32(7));
    w.set("a.i32", gguf::Value::i32(-3));
    w.set("a.f32", gguf::Value::f32(0.25f));
    w.set("a.bool", gguf::Value::boolean(true));
    w.set("a.strings", gguf::Value::array({gguf::Value::string("x"), gguf::Value::string("yz")}));
    w.set("a.ints", gguf::Value::array({gguf::Value::i32(1), gguf::Value::i32(2), gguf::Value::i32(3)}));
    w.add_tensor("t.f32", {3, 2}, gguf::TensorType::F32, [](std::vector<std::uint8_t>& out) {
        const float v[6] = {1, 2, 3, 4, 5, 6};
        out.assign(reinterpret_cast<const std::uint8_t*>(v), reinterpret_cast<const std::uint8_t*>(v) + sizeof v);
    });
    w.add_tensor("t.f16", {5}, gguf::TensorType::F16, [](std::vector<std::uint8_t>& out) {
        const std::uint16_t v[5] = {0x3c00, 0x4000, 0x4200, 0x4400, 0x4500};  // 1 2 3 4 5
        out.assign(reinterpret_cast<const std::uint8_t*>(v), reinterpret_cast<const std::uint8_t*>(v) + sizeof v);
    });
    w.write(path);
}

template <class T>
void patch(std::vector<std::uint8_t>& b, std::size_t at, T v) {
    std::memcpy(b.data() + at, &v, sizeof v);
}

// Offset of the first tensor info: after the header and the metadata of write_sample.
std::size_t first_tensor_info() {
    std::size_t p = 24;
    auto str = [&](std::size_t n) { p += 8 + n; };
    str(20); p += 4; str(4);            // general.architecture = "bert"
    str(5); p += 4 + 4;                 // a.u32
    str(5); p += 4 + 4;                 // a.i32
    str(5); p += 4 + 4;                 // a.f32
    str(6); p += 4 + 1;                 // a.bool
    str(9); p += 4 + 4 + 8; str(1); str(2);  // a.strings
    str(6); p += 4 + 4 + 8 + 12;        // a.ints
    return p;
}

}  // namespace

TEST_CASE("GGUF written by micse reads back exactly", "[gguf]") {
    test::TempDir dir;
    for (std::uint32_t alignment : {32u, 64u}) {
        write_sample(dir / "s.gguf", alignment);
        const gguf::File f(dir / "s.gguf");
        CHECK(f.version() == 3);
        CHECK(f.alignment() == alignment);
        CHECK(f.get_string("general.architecture") == "bert");
        CHECK(f.get_uint("a.u32") == 7);
        CHECK(std::get<std::int64_t>(f.get("a.i32").data) == -3);
        CHECK(f.get_float("a.f32") == 0.25);
        CHECK(f.get_bool("a.bool"));
        CHECK(f.get_string_array("a.strings") == std::vector<std::string>{"x", "yz"});
        CHECK(f.get_int_array("a.ints") == std::vector<std::int64_t>{1, 2, 3});
        const auto& t = f.tensor("t.f32");
        CHECK(t.ne == std::vector<std::uint64_t>{3, 2});
        CHECK(t.type == gguf::TensorType::F32);
        CHECK(t.n_bytes == 24);
        float v[6];
        std::memcpy(v, t.data, 24);
        CHECK(v[5] == 6.0f);
        const auto& h = f.tensor("t.f16");
        CHECK(h.type == gguf::TensorType::F16);
        CHECK(h.offset % alignment == 0);
        CHECK((f.data_offset() % alignment) == 0);
        CHECK_THROWS_AS(f.tensor("nope"), Error);
        CHECK_THROWS_WITH(f.get_string("a.u32"), Catch::Contains("a.u32") && Catch::Contains("string"));
    }
}

TEST_CASE("a GGUF written by llama.cpp's converter is read", "[gguf][interop]") {
    const gguf::File f((test::llamacpp() / "tiny-bert-f16.gguf").string());
    CHECK(f.get_string("general.architecture") == "bert");
    CHECK(f.get_uint("bert.block_count") == 2);
    CHECK(f.get_string_array("tokenizer.ggml.tokens").size() == 30522);
    CHECK(f.tensor("token_embd.weight").type == gguf::TensorType::F16);
    CHECK(f.tensor("token_embd.weight").ne == std::vector<std::uint64_t>{32, 30522});
    CHECK(f.tensor("position_embd.weight").type == gguf::TensorType::F32);
    CHECK(f.tensors().size() == 5 + 2 * 16);
}

TEST_CASE("a GGUF cut short anywhere is refused with micse::Error", "[gguf][damaged]") {
    test::TempDir dir;
    write_sample(dir / "s.gguf");
    const auto bytes = test::read_bytes(dir / "s.gguf");
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        test::write_bytes(dir / "cut.gguf", std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + std::ptrdiff_t(n)));
        INFO("truncated to " << n << " bytes");
        REQUIRE_THROWS_AS(gguf::File(dir / "cut.gguf"), Error);
    }
}

TEST_CASE("damaged GGUF headers are refused with a message that says where", "[gguf][damaged]") {
    test::TempDir dir;
    write_sample(dir / "s.gguf");
    const auto good = test::read_bytes(dir / "s.gguf");
    const std::size_t ti = first_tensor_info();
    auto expect_error = [&](std::vector<std::uint8_t> b, const std::string& text) {
        test::write_bytes(dir / "bad.gguf", b);
        REQUIRE_THROWS_WITH(gguf::File(dir / "bad.gguf"), Catch::Contains(text) && Catch::Contains("bad.gguf"));
    };
    auto b = good;
    b[0] = 'X';
    expect_error(b, "not a GGUF file");
    b = good;
    patch<std::uint32_t>(b, 4, 2);
    expect_error(b, "version 2");
    b = good;
    patch<std::uint64_t>(b, 8, std::uint64_t{1} << 60);
    expect_error(b, "tensor count");
    b = good;
    patch<std::uint64_t>(b, 16, std::uint64_t{1} << 60);
    expect_error(b, "metadata count");
    b = good;
    patch<std::uint64_t>(b, 24, std::uint64_t{1} << 62);  // first key's length
    expect_error(b, "truncated");
    b = good;
    patch<std::uint32_t>(b, 24 + 8 + 20, 99);  // first value's type
    expect_error(b, "unknown metadata value type 99");
    b = good;
    patch<std::uint32_t>(b, ti + 8 + 5, 5);  // n_dims of the first tensor
    expect_error(b, "dimensions");
    b = good;
    patch<std::uint32_t>(b, ti + 8 + 5 + 4 + 16, 2);  // ggml type 2 (Q4_0)
    expect_error(b, "ggml type 2");
    b = good;
    patch<std::uint64_t>(b, ti + 8 + 5 + 4 + 16 + 4, 7);  // misaligned offset
    expect_error(b, "not a multiple of the alignment");
    b = good;
    patch<std::uint64_t>(b, ti + 8 + 5 + 4 + 16 + 4, std::uint64_t{1} << 40);  // far past the end
    expect_error(b, "truncated: tensor 't.f32'");
    b = good;
    patch<std::uint64_t>(b, ti + 8 + 5 + 4, std::uint64_t{1} << 39);  // ne[0] huge
    expect_error(b, "t.f32");
}

TEST_CASE("random damage to a GGUF never crashes the reader", "[gguf][damaged]") {
    test::TempDir dir;
    write_sample(dir / "s.gguf");
    const auto good = test::read_bytes(dir / "s.gguf");
    std::mt19937 rng(42);
    int refused = 0, loaded = 0;
    for (int i = 0; i < 3000; ++i) {
        auto b = good;
        const int flips = 1 + int(rng() % 4);
        for (int k = 0; k < flips; ++k) b[rng() % 400 % b.size()] ^= std::uint8_t(1u << (rng() % 8));
        test::write_bytes(dir / "r.gguf", b);
        try {
            const gguf::File f(dir / "r.gguf");
            for (const auto& t : f.tensors()) REQUIRE(f.data_offset() + t.offset + t.n_bytes <= b.size());
            ++loaded;
        } catch (const Error&) {
            ++refused;
        }
    }
    CHECK(refused > 0);
    CHECK(loaded + refused == 3000);
}

TEST_CASE("a missing or empty model file is a clear error", "[gguf][damaged]") {
    test::TempDir dir;
    CHECK_THROWS_WITH(gguf::File(dir / "absent.gguf"), Catch::Contains("absent.gguf") && Catch::Contains("cannot open"));
    test::write_bytes(dir / "empty.gguf", {});
    CHECK_THROWS_WITH(gguf::File(dir / "empty.gguf"), Catch::Contains("empty"));
    CHECK_THROWS_WITH(gguf::File(dir.path.string()), Catch::Contains("not a regular file"));
}
