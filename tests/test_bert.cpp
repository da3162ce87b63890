// Reference: PyTorch. tests/fixtures/make_fixtures.py runs Hugging Face's BertModel (written out
// in torch operations, eval mode, padded batch with attention mask) in float64 and saves every
// hidden state; here each stage is compared separately, so a mismatch names its block.
// Tolerances from docs/design.md: float <= 1e-4, double <= 1e-9 (max abs difference).
#include <catch2/catch.hpp>

#include <micse/micse.hpp>

#include "converted.hpp"

using namespace micse;

namespace {

template <class T>
double tolerance();
template <>
double tolerance<float>() { return 1e-4; }
template <>
double tolerance<double>() { return 1e-9; }

PackedBatch pack(const std::vector<std::vector<std::int32_t>>& seqs) {
    PackedBatch b;
    for (const auto& s : seqs) b.add(s);
    return b;
}

template <class T>
void check_every_stage(const std::string& variant) {
    const auto seqs = test::read_ids(test::hf_fixture(variant) / "goldens" / "ids.txt");
    const BertModel<T> model(test::converted(variant));
    const PackedBatch batch = pack(seqs);
    std::vector<RowMatrix<T>> stages;
    model.forward(batch, 0, &stages);
    REQUIRE(stages.size() == std::size_t(model.config().num_layers + 1));
    for (std::size_t s = 0; s < seqs.size(); ++s) {
        const test::Npy golden = test::read_npy(test::hf_fixture(variant) / "goldens" / ("hidden-" + std::to_string(s) + ".npy"));
        const auto n = Eigen::Index(seqs[s].size());
        for (std::size_t stage = 0; stage < stages.size(); ++stage) {
            const auto expected = golden.data.middleRows(Eigen::Index(stage) * n, n);
            const auto got = stages[stage].middleRows(batch.begin(Eigen::Index(s)), n).template cast<double>();
            const double diff = (got - expected).cwiseAbs().maxCoeff();
            INFO(variant << ": sequence " << s << " (" << n << " tokens), "
                         << (stage == 0 ? std::string("embeddings") : "layer " + std::to_string(stage - 1)));
            REQUIRE(diff <= tolerance<T>());
        }
    }
}

template <class T>
void check_cls(const std::string& variant) {
    const auto seqs = test::read_ids(test::hf_fixture(variant) / "goldens" / "ids.txt");
    const test::Npy golden = test::read_npy(test::hf_fixture(variant) / "goldens" / "cls.npy");
    const BertModel<T> model(test::converted(variant));
    const PackedBatch batch = pack(seqs);
    const RowMatrix<T> h = model.forward(batch);
    for (Eigen::Index s = 0; s < batch.sequences(); ++s) {
        const double diff = (h.row(batch.begin(s)).template cast<double>() - golden.data.row(s)).cwiseAbs().maxCoeff();
        INFO(variant << ": sequence " << s);
        REQUIRE(diff <= tolerance<T>());
    }
}

}  // namespace

TEST_CASE("every stage matches PyTorch in float64", "[bert][parity]") {
    check_every_stage<double>("plain");
    check_every_stage<double>("sharp");
}

TEST_CASE("every stage matches PyTorch in float32", "[bert][parity]") {
    check_every_stage<float>("plain");
    check_every_stage<float>("sharp");
}

TEST_CASE("[CLS] vectors of every converted variant match PyTorch", "[bert][parity]") {
    for (const auto& v : test::variants()) {
        check_cls<float>(v);
        check_cls<double>(v);
    }
}

TEST_CASE("float model views an F32 file without copying; double and F16 widen once", "[bert]") {
    CHECK(BertModel<float>(test::converted("sharp")).weights().copied_tensor_count() == 0);
    CHECK(BertModel<double>(test::converted("sharp")).weights().copied_tensor_count() == 5 + 2 * 16);
    CHECK(BertModel<float>(test::converted("sharp", true)).weights().copied_tensor_count() == 1 + 2 * 6);
}

TEST_CASE("a model file that is not a BERT encoder is refused", "[bert][damaged]") {
    test::TempDir dir;
    gguf::Writer w;
    w.set("general.architecture", gguf::Value::string("llama"));
    w.write(dir / "llama.gguf");
    CHECK_THROWS_WITH(BertModel<float>(dir / "llama.gguf"), Catch::Contains("'llama'") && Catch::Contains("bert"));
    // A BERT file with one tensor of the wrong shape names that tensor.
    const gguf::File good(test::converted("plain"));
    gguf::Writer bad;
    for (const auto& [k, v] : good.metadata()) bad.set(k, v);
    for (const auto& t : good.tensors()) {
        auto ne = t.ne;
        if (t.name == "blk.1.ffn_up.weight") ne = {64, 32};
        const auto* src = &t;
        bad.add_tensor(t.name, ne, t.type, [src](std::vector<std::uint8_t>& out) { out.assign(src->data, src->data + src->n_bytes); });
    }
    bad.write(dir / "bad.gguf");
    CHECK_THROWS_WITH(BertModel<float>(dir / "bad.gguf"), Catch::Contains("blk.1.ffn_up.weight") && Catch::Contains("{64, 32}"));
}
