// Reference: checkpoints written by PyTorch (torch.save) and by the safetensors format's
// definition (tests/fixtures/make_fixtures.py); the converted tensors are compared value by value
// with what PyTorch saved, and every variant's embeddings with PyTorch's in test_bert.cpp.
#include <catch2/catch.hpp>
#include <cstring>
#include <fstream>
#include <functional>

#include <micse/micse.hpp>

#include "converted.hpp"

using namespace micse;
namespace fs = std::filesystem;

namespace {

// Copies a fixture checkpoint so a test can damage it.
fs::path copy_fixture(const test::TempDir& dir, const std::string& variant) {
    const fs::path to = dir.path / variant;
    fs::copy(test::hf_fixture(variant), to, fs::copy_options::recursive);
    return to;
}

void edit_config(const fs::path& dir, const std::string& key, const nlohmann::json& value) {
    auto j = nlohmann::json::parse(std::ifstream(dir / "config.json"));
    j[key] = value;
    std::ofstream(dir / "config.json") << j.dump(2);
}

// Converting must fail with `text` in the message and leave no output and no temporary file.
void expect_failure(const test::TempDir& dir, const fs::path& hf, const std::string& text) {
    const std::string out = dir / "out.gguf";
    REQUIRE_THROWS_WITH(convert::convert_checkpoint(hf.string(), out), Catch::Contains(text));
    CHECK_FALSE(fs::exists(out));
    CHECK_FALSE(fs::exists(out + ".tmp-micse"));
}

// Rewrites the JSON header of a safetensors file (the data section is kept as it is).
void edit_safetensors_header(const fs::path& file, const std::function<void(nlohmann::json&)>& edit) {
    auto bytes = test::read_bytes(file);
    std::uint64_t n;
    std::memcpy(&n, bytes.data(), 8);
    auto header = nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + 8 + std::ptrdiff_t(n));
    edit(header);
    const std::string h = header.dump();
    std::vector<std::uint8_t> out(8);
    const std::uint64_t len = h.size();
    std::memcpy(out.data(), &len, 8);
    out.insert(out.end(), h.begin(), h.end());
    out.insert(out.end(), bytes.begin() + 8 + std::ptrdiff_t(n), bytes.end());
    test::write_bytes(file, out);
}

}  // namespace

TEST_CASE("every checkpoint variant converts to the same weights PyTorch saved", "[convert]") {
    const gguf::File reference(test::converted("sharp"));
    for (const auto& v : test::variants()) {
        INFO("variant " << v);
        const gguf::File f(test::converted(v));
        CHECK(f.get_string("general.architecture") == "bert");
        CHECK(f.get_uint("bert.pooling_type") == 2);
        CHECK(f.get_uint("bert.block_count") == 2);
        CHECK(f.get_uint("bert.embedding_length") == 32);
        CHECK(f.get_uint("tokenizer.ggml.seperator_token_id") == 102);
        CHECK(f.get_uint("tokenizer.ggml.bos_token_id") == 101);
        CHECK(f.tensors().size() == reference.tensors().size());
        if (v == "plain") continue;  // its own random weights
        // sharp, prefixed, sharded, oldnames hold identical float32 weights; fp16 / bf16 the
        // rounded ones, checked against the reference within their precision.
        const double tol = v == "fp16" ? 1e-3 * 4 : v == "bf16" ? 1e-2 * 4 : 0.0;
        for (const auto& t : reference.tensors()) {
            const auto& u = f.tensor(t.name);
            REQUIRE(u.ne == t.ne);
            REQUIRE(u.type == gguf::TensorType::F32);
            const float* a = reinterpret_cast<const float*>(t.data);
            const float* b = reinterpret_cast<const float*>(u.data);
            double worst = 0;
            for (std::uint64_t i = 0; i < t.n_elements; ++i) worst = std::max(worst, double(std::fabs(a[i] - b[i])));
            INFO("tensor " << t.name);
            CHECK(worst <= tol);
        }
    }
}

TEST_CASE("pooler, pre-training heads, contrastive head and position_ids are skipped and listed", "[convert]") {
    test::TempDir dir;
    const auto report = convert::convert_checkpoint(test::hf_fixture("prefixed").string(), dir / "p.gguf");
    CHECK(report.skipped == std::vector<std::string>{"bert.embeddings.position_ids", "bert.pooler.dense.weight",
                                                     "bert.pooler.dense.bias", "cls.predictions.bias", "mlp.dense.weight"});
    CHECK(report.tensors_written == 5 + 2 * 16);
}

TEST_CASE("f16 output keeps norms, biases, positions and token types in f32", "[convert]") {
    const gguf::File f(test::converted("sharp", true));
    CHECK(f.get_uint("general.file_type") == 1);
    for (const auto& t : f.tensors()) {
        const bool f32 = t.ne.size() == 1 || t.name == "position_embd.weight" || t.name == "token_types.weight";
        INFO(t.name);
        CHECK(t.type == (f32 ? gguf::TensorType::F32 : gguf::TensorType::F16));
    }
}

TEST_CASE("the vocabulary is stored in llama.cpp's phantom-space form and reads back", "[convert]") {
    const gguf::File f(test::converted("plain"));
    const auto tokens = f.get_string_array("tokenizer.ggml.tokens");
    const auto types = f.get_int_array("tokenizer.ggml.token_type");
    REQUIRE(tokens.size() == 1000);
    CHECK(tokens[0] == "[PAD]");
    CHECK(tokens[101] == "[CLS]");
    CHECK(tokens[999] == "\xE2\x96\x81!");
    CHECK(types[100] == 3);
    CHECK(types[1] == 1);
    std::ifstream in(test::hf_fixture("plain") / "vocab.txt");
    std::vector<std::string> original;
    for (std::string line; std::getline(in, line);) original.push_back(line);
    CHECK(vocab::read_wordpiece_tokens(f) == original);
    CHECK_FALSE(f.has("micse.tokenizer.wordpiece_tokens"));
    CHECK(f.get_bool("micse.tokenizer.do_lower_case"));
    CHECK_FALSE(f.has("micse.tokenizer.strip_accents"));
    CHECK(f.get_uint("micse.tokenizer.model_max_length") == 64);
}

TEST_CASE("a checkpoint that does not fit its config is refused and leaves no file", "[convert][damaged]") {
    test::TempDir dir;
    SECTION("missing tensor (config asks for a third layer)") {
        const auto hf = copy_fixture(dir, "plain");
        edit_config(hf, "num_hidden_layers", 3);
        expect_failure(dir, hf, "no tensor for blk.2.attn_q.weight");
    }
    SECTION("extra tensor (config asks for one layer)") {
        const auto hf = copy_fixture(dir, "sharp");
        edit_config(hf, "num_hidden_layers", 1);
        expect_failure(dir, hf, "encoder.layer.1.");
    }
    SECTION("mis-shaped tensor") {
        const auto hf = copy_fixture(dir, "plain");
        edit_config(hf, "intermediate_size", 48);
        expect_failure(dir, hf, "intermediate.dense.weight' has shape [64, 32], config.json implies [48, 32]");
    }
    SECTION("unsupported activation") {
        const auto hf = copy_fixture(dir, "plain");
        edit_config(hf, "hidden_act", "relu");
        expect_failure(dir, hf, "hidden_act \"relu\" is not supported");
    }
    SECTION("heads that do not divide the hidden size") {
        const auto hf = copy_fixture(dir, "plain");
        edit_config(hf, "num_attention_heads", 5);
        expect_failure(dir, hf, "does not divide");
    }
    SECTION("relative position embeddings") {
        const auto hf = copy_fixture(dir, "plain");
        edit_config(hf, "position_embedding_type", "relative_key");
        expect_failure(dir, hf, "position_embedding_type");
    }
    SECTION("no weights") {
        const auto hf = copy_fixture(dir, "plain");
        fs::remove(hf / "model.safetensors");
        expect_failure(dir, hf, "no weights found");
    }
    SECTION("truncated safetensors") {
        const auto hf = copy_fixture(dir, "plain");
        fs::resize_file(hf / "model.safetensors", fs::file_size(hf / "model.safetensors") - 100);
        expect_failure(dir, hf, "outside the");
    }
    SECTION("truncated .bin") {
        const auto hf = copy_fixture(dir, "sharp");
        fs::resize_file(hf / "pytorch_model.bin", fs::file_size(hf / "pytorch_model.bin") / 2);
        expect_failure(dir, hf, "pytorch_model.bin: a damaged or truncated zip archive");
    }
    SECTION("a damaged byte inside a .bin's tensor data") {
        // zip's CRC-32 catches it; without the check the weight would silently change
        const auto hf = copy_fixture(dir, "sharp");
        auto bytes = test::read_bytes(hf / "pytorch_model.bin");
        std::size_t data = 0;  // the first storage's bytes: its local header, "PK\3\4", names .../data/0
        for (std::size_t h = 0; h + 30 < bytes.size() && !data; ++h) {
            if (bytes[h] != 'P' || bytes[h + 1] != 'K' || bytes[h + 2] != 3 || bytes[h + 3] != 4) continue;
            const std::size_t n = bytes[h + 26] | std::size_t(bytes[h + 27]) << 8;
            const std::size_t e = bytes[h + 28] | std::size_t(bytes[h + 29]) << 8;
            const std::string name(bytes.begin() + std::ptrdiff_t(h + 30), bytes.begin() + std::ptrdiff_t(h + 30 + n));
            if (name.size() >= 7 && name.compare(name.size() - 7, 7, "/data/0") == 0) data = h + 30 + n + e;
        }
        REQUIRE(data > 0);
        bytes[data + 5] ^= 0x10;
        test::write_bytes(hf / "pytorch_model.bin", bytes);
        expect_failure(dir, hf, "/data/0' is damaged (CRC error)");
    }
    SECTION("shard missing") {
        const auto hf = copy_fixture(dir, "sharded");
        fs::remove(hf / "model-00002-of-00003.safetensors");
        expect_failure(dir, hf, "model-00002-of-00003.safetensors");
    }
    SECTION("a weight stored as integers") {
        const auto hf = copy_fixture(dir, "plain");
        edit_safetensors_header(hf / "model.safetensors",
                                [](nlohmann::json& h) { h["encoder.layer.0.output.dense.weight"]["dtype"] = "I32"; });
        expect_failure(dir, hf, "'encoder.layer.0.output.dense.weight' has dtype int32; weights must be float");
    }
    SECTION("an unknown dtype") {
        const auto hf = copy_fixture(dir, "plain");
        edit_safetensors_header(hf / "model.safetensors",
                                [](nlohmann::json& h) { h["embeddings.word_embeddings.weight"]["dtype"] = "F8_E4M3"; });
        expect_failure(dir, hf, "has dtype F8_E4M3, which micse does not read");
    }
    SECTION("a data offset written as a float") {
        // 1e32 cast to an integer was undefined behaviour (a fuzz_safetensors finding)
        const auto hf = copy_fixture(dir, "plain");
        edit_safetensors_header(hf / "model.safetensors",
                                [](nlohmann::json& h) { h["embeddings.LayerNorm.bias"]["data_offsets"][1] = 1e32; });
        expect_failure(dir, hf, "'embeddings.LayerNorm.bias': a data offset must be a whole number >= 0, not 1e+32");
    }
    SECTION("a negative dimension") {
        const auto hf = copy_fixture(dir, "plain");
        edit_safetensors_header(hf / "model.safetensors",
                                [](nlohmann::json& h) { h["embeddings.LayerNorm.bias"]["shape"][0] = -32; });
        expect_failure(dir, hf, "'embeddings.LayerNorm.bias': a dimension must be a whole number >= 0, not -32");
    }
    SECTION("a layer_norm_eps that would be written as 0") {
        const auto hf = copy_fixture(dir, "plain");
        edit_config(hf, "layer_norm_eps", 1e-300);
        expect_failure(dir, hf, "\"layer_norm_eps\" = 1e-300 must be in (0, 1)");
    }
    SECTION("a config value of the wrong JSON type") {
        const auto hf = copy_fixture(dir, "plain");
        edit_config(hf, "hidden_act", 5);
        expect_failure(dir, hf, "\"hidden_act\" must be a string");
    }
    SECTION("a config value of the wrong JSON type in tokenizer_config.json") {
        const auto hf = copy_fixture(dir, "plain");
        std::ofstream(hf / "tokenizer_config.json") << R"({"do_lower_case": "yes"})";
        expect_failure(dir, hf, "\"do_lower_case\" must be true or false");
    }
    SECTION("a failed conversion keeps the file that was there") {
        const auto hf = copy_fixture(dir, "plain");
        edit_config(hf, "num_hidden_layers", 3);
        const std::string out = dir / "out.gguf";
        test::write_bytes(out, {1, 2, 3});
        CHECK_THROWS_AS(convert::convert_checkpoint(hf.string(), out), Error);
        CHECK(test::read_bytes(out) == std::vector<std::uint8_t>{1, 2, 3});
    }
}
