// Reference: PyTorch's [CLS] and mean-pooled vectors (tests/fixtures/hf/*/goldens). A sequence's
// embedding must not depend on the rest of its batch (design.md: <= 1e-5).
#include <catch2/catch.hpp>

#include <micse/micse.hpp>

#include "converted.hpp"

using namespace micse;

namespace {
const auto& sharp_ids() {
    static const auto v = test::read_ids(test::hf_fixture("sharp") / "goldens" / "ids.txt");
    return v;
}
}  // namespace

TEST_CASE("Encoder gives PyTorch's [CLS] vectors whatever the batching", "[encoder][parity]") {
    const test::Npy golden = test::read_npy(test::hf_fixture("sharp") / "goldens" / "cls.npy");
    Eigen::MatrixXf first;
    for (int batch_size : {1, 2, 3, 32}) {
        for (int threads : {1, 2}) {
            EncoderOptions o;
            o.batch_size = batch_size;
            o.threads = threads;
            const Encoder enc(test::converted("sharp"), o);
            const Eigen::MatrixXf e = enc.encode_ids(sharp_ids());
            REQUIRE(e.rows() == Eigen::Index(sharp_ids().size()));
            REQUIRE(e.cols() == 32);
            CHECK((e.cast<double>() - golden.data).cwiseAbs().maxCoeff() <= 1e-4);
            if (first.size() == 0) first = e;
            INFO("batch size " << batch_size << ", threads " << threads);
            CHECK((e - first).cwiseAbs().maxCoeff() <= 1e-5);
        }
    }
    // One short sequence alone and inside a batch with the longest ones.
    const Encoder enc(test::converted("sharp"));
    const Eigen::MatrixXf alone = enc.encode_ids({sharp_ids()[1]});
    const Eigen::MatrixXf mixed = enc.encode_ids({sharp_ids().back(), sharp_ids()[1], sharp_ids()[sharp_ids().size() - 2]});
    CHECK((alone.row(0) - mixed.row(1)).cwiseAbs().maxCoeff() <= 1e-5);
}

TEST_CASE("mean pooling and normalisation", "[encoder][parity]") {
    const test::Npy mean = test::read_npy(test::hf_fixture("sharp") / "goldens" / "mean.npy");
    EncoderOptions o;
    o.pooling = Pooling::mean;
    const Eigen::MatrixXf e = Encoder(test::converted("sharp"), o).encode_ids(sharp_ids());
    CHECK((e.cast<double>() - mean.data).cwiseAbs().maxCoeff() <= 1e-4);
    o.normalize = true;
    const Eigen::MatrixXf n = Encoder(test::converted("sharp"), o).encode_ids(sharp_ids());
    for (Eigen::Index r = 0; r < n.rows(); ++r) {
        CHECK(std::fabs(n.row(r).norm() - 1.0f) < 1e-5);
        CHECK(cosine_similarity(n.row(r), e.row(r)) > 0.99999f);
    }
}

TEST_CASE("Encoder refuses ids and settings the model cannot take", "[encoder][damaged]") {
    const Encoder enc(test::converted("sharp"));
    CHECK_THROWS_WITH(enc.encode_ids({{101, 1000, 102}}), Catch::Contains("id 1000 is outside the vocabulary [0, 1000)"));
    CHECK_THROWS_WITH(enc.encode_ids({{101, -1, 102}}), Catch::Contains("id -1"));
    CHECK_THROWS_WITH(enc.encode_ids({{101, 102}, {}}), Catch::Contains("sequence 1 is empty"));
    CHECK_THROWS_WITH(enc.encode_ids({std::vector<std::int32_t>(65, 101)}), Catch::Contains("more than max_length 64"));
    CHECK_THROWS_WITH(enc.encode_ids({}), Catch::Contains("the batch is empty"));
    CHECK_THROWS_WITH(enc.encode(std::vector<std::string>{}), Catch::Contains("the batch is empty"));
    EncoderOptions o;
    o.max_length = 65;
    CHECK_THROWS_WITH(Encoder(test::converted("sharp"), o), Catch::Contains("max_length 65 is outside [2, 64]"));
    o.max_length = 1;
    CHECK_THROWS_AS(Encoder(test::converted("sharp"), o), Error);
    o.max_length = 0;
    o.batch_size = 0;
    CHECK_THROWS_AS(Encoder(test::converted("sharp"), o), Error);
}

TEST_CASE("cosine similarity", "[encoder]") {
    Eigen::RowVector3f a(1, 0, 0), b(0, 2, 0), c(3, 0, 0);
    CHECK(cosine_similarity(a, b) == Approx(0.0f));
    CHECK(cosine_similarity(a, c) == Approx(1.0f));
    CHECK(cosine_similarity(a, Eigen::RowVector3f::Zero()) == 0.0f);
}

TEST_CASE("results are bit-identical across calls and thread counts", "[encoder]") {
    // Reductions whose rounding depends on buffer addresses or on which thread ran a job would
    // make the same input give different last bits; nothing in the forward pass may do that.
    EncoderOptions one, two;
    one.threads = 1;
    two.threads = 2;
    const Encoder a(test::converted("sharp"), one), b(test::converted("sharp"), two);
    const Eigen::MatrixXf first = a.encode_ids(sharp_ids());
    for (int rep = 0; rep < 5; ++rep) {
        CHECK((a.encode_ids(sharp_ids()) - first).cwiseAbs().maxCoeff() == 0.0f);
        CHECK((b.encode_ids(sharp_ids()) - first).cwiseAbs().maxCoeff() == 0.0f);
    }
    if (std::string(MICSE_EXPECTED_KERNEL).size()) CHECK(std::string(BertModel<float>::kernel()) == MICSE_EXPECTED_KERNEL);
}
