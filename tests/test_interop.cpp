// Reference: shared/fixtures/llamacpp-bert — a BERT GGUF written by llama.cpp's own converter
// (F32 and F16), the checkpoint it came from, and PyTorch's [CLS] vectors for it.
// Both directions: micse reads llama.cpp's file, and micse-convert of the same checkpoint
// writes the same tensors (byte for byte) and keys.
#include <catch2/catch.hpp>

#include <micse/micse.hpp>

#include "common.hpp"
#include "convert/converter.hpp"

using namespace micse;

namespace {
const auto& llamacpp_ids() {
    static const auto v = test::read_ids(test::llamacpp() / "ids.jsonl");
    return v;
}
}  // namespace

TEST_CASE("micse reads llama.cpp's BERT GGUF and gives PyTorch's [CLS] vectors", "[interop][parity]") {
    REQUIRE(llamacpp_ids().size() == 14);
    for (const std::string type : {"f32", "f16"}) {
        INFO(type);
        const std::string path = (test::llamacpp() / ("tiny-bert-" + type + ".gguf")).string();
        const test::Npy golden = test::read_npy(test::llamacpp() / ("cls-" + type + ".npy"));
        const Encoder enc(path);  // no bert.pooling_type in these files: [CLS] is the default
        CHECK(enc.config().pooling == Pooling::cls);
        const Eigen::MatrixXf e = enc.encode_ids(llamacpp_ids());
        CHECK((e.cast<double>() - golden.data).cwiseAbs().maxCoeff() <= 1e-4);
        // In double the remaining difference is the goldens' own rounding to float32.
        const BertModel<double> model(path);
        PackedBatch b;
        for (const auto& s : llamacpp_ids()) b.add(s);
        const RowMatrix<double> h = model.forward(b);
        for (Eigen::Index s = 0; s < b.sequences(); ++s)
            CHECK((h.row(b.begin(s)) - golden.data.row(s)).cwiseAbs().maxCoeff() <= 1e-6);
    }
}

TEST_CASE("micse-convert writes what llama.cpp's converter writes, plus pooling and micse keys", "[interop][convert]") {
    test::TempDir dir;
    for (const std::string type : {"f32", "f16"}) {
        INFO(type);
        convert::ConvertOptions o;
        o.type = type == "f16" ? convert::OutType::f16 : convert::OutType::f32;
        o.name = "Random Bert";
        convert::convert_checkpoint((test::llamacpp() / "hf").string(), dir / "ours.gguf", o);
        const gguf::File ours(dir / "ours.gguf");
        const gguf::File theirs((test::llamacpp() / ("tiny-bert-" + type + ".gguf")).string());
        for (const auto& [key, value] : theirs.metadata()) {
            INFO("key " << key);
            if (key == "general.quantization_version") continue;  // llama.cpp writes it even unquantised
            REQUIRE(ours.has(key));
            const gguf::Value& mine = ours.get(key);
            CHECK(mine.type == value.type);
            CHECK(mine == value);
        }
        CHECK(ours.get_uint("bert.pooling_type") == 2);
        CHECK(ours.has("micse.tokenizer.do_lower_case"));
        REQUIRE(ours.tensors().size() == theirs.tensors().size());
        for (const auto& t : theirs.tensors()) {
            INFO("tensor " << t.name);
            const gguf::TensorInfo& m = ours.tensor(t.name);
            CHECK(m.ne == t.ne);
            CHECK(m.type == t.type);
            REQUIRE(m.n_bytes == t.n_bytes);
            CHECK(std::memcmp(m.data, t.data, t.n_bytes) == 0);
        }
    }
}
