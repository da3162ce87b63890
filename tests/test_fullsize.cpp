// Reference: PyTorch, at full bert-base size (12 layers, 768 hidden, 12 heads, 512 positions,
// the real 30522-token vocabulary). tests/fixtures/fullsize/ holds the [CLS] vectors PyTorch
// computed in float64 for sequences of 3 to 512 tokens; the weights are regenerated here bit for
// bit (tests/fullsize.hpp) and written as Hugging Face checkpoints in several forms, which
// micse-convert then converts. Tolerances from design.md: float <= 1e-4, double <= 1e-9.
#include <catch2/catch.hpp>
#include <cstdlib>

#include <micse/micse.hpp>

#include "convert/converter.hpp"
#include "fullsize.hpp"

using namespace micse;
namespace fs = std::filesystem;

namespace {

const fs::path kDir = test::fixtures() / "fullsize";

struct Checkpoints {
    test::TempDir dir;
    nlohmann::json cfg;
    std::vector<test::fullsize::Tensor> sd;

    Checkpoints() {
        cfg = nlohmann::json::parse(std::ifstream(kDir / "config.json"));
        sd = test::fullsize::state_dict(cfg);
    }

    // A Hugging Face folder with config, tokenizer files and the weights in the given form.
    std::string make(const std::string& name, const std::string& dtype, int shards, const std::string& prefix,
                     bool old_names) {
        const fs::path d = dir.path / name;
        fs::create_directories(d);
        fs::copy_file(kDir / "config.json", d / "config.json");
        fs::copy_file(test::shared() / "vocab" / "bert-base-uncased-vocab.txt", d / "vocab.txt");
        fs::copy_file(test::shared() / "vocab" / "tokenizer_config.json", d / "tokenizer_config.json");
        std::vector<const test::fullsize::Tensor*> all;
        for (const auto& t : sd) all.push_back(&t);
        if (shards == 1) {
            test::fullsize::write_safetensors((d / "model.safetensors").string(), all, dtype, prefix, old_names);
        } else {
            nlohmann::json index = {{"metadata", nlohmann::json::object()}, {"weight_map", nlohmann::json::object()}};
            for (int s = 0; s < shards; ++s) {
                std::vector<const test::fullsize::Tensor*> part;
                for (std::size_t i = std::size_t(s); i < all.size(); i += std::size_t(shards)) part.push_back(all[i]);
                const std::string file = "model-0000" + std::to_string(s + 1) + "-of-0000" + std::to_string(shards) + ".safetensors";
                test::fullsize::write_safetensors((d / file).string(), part, dtype, prefix, old_names);
                for (const auto* t : part) {
                    std::string n = prefix + t->name;
                    if (old_names && n.size() > 16 && n.compare(n.size() - 16, 16, "LayerNorm.weight") == 0)
                        n = n.substr(0, n.size() - 6) + "gamma";
                    if (old_names && n.size() > 14 && n.compare(n.size() - 14, 14, "LayerNorm.bias") == 0)
                        n = n.substr(0, n.size() - 4) + "beta";
                    index["weight_map"][n] = file;
                }
            }
            std::ofstream(d / "model.safetensors.index.json") << index.dump(1);
        }
        const std::string out = dir / (name + ".gguf");
        convert::convert_checkpoint(d.string(), out);
        fs::remove_all(d);  // keep the scratch space small
        return out;
    }
};

void check_float(const std::string& gguf, const std::string& golden_name, double tol) {
    const auto ids = test::read_ids(kDir / "ids.txt");
    const test::Npy golden = test::read_npy(kDir / golden_name);
    for (int batch_size : {1, 32}) {
        EncoderOptions o;
        o.batch_size = batch_size;
        const Eigen::MatrixXf e = Encoder(gguf, o).encode_ids(ids);
        for (Eigen::Index s = 0; s < e.rows(); ++s) {
            const double diff = (e.row(s).cast<double>() - golden.data.row(s)).cwiseAbs().maxCoeff();
            INFO(gguf << " (" << golden_name << "), batch size " << batch_size << ": sequence of " << ids[std::size_t(s)].size()
                      << " tokens, max abs diff " << diff);
            CHECK(diff <= tol);
        }
    }
}

}  // namespace

TEST_CASE("the full-size generator reproduces PyTorch's weights", "[fullsize]") {
    const auto cfg = nlohmann::json::parse(std::ifstream(kDir / "config.json"));
    const auto sums = nlohmann::json::parse(std::ifstream(kDir / "weight-sums.json"));
    const auto sd = test::fullsize::state_dict(cfg);
    int checked = 0;
    for (const auto& t : sd) {
        if (!sums.contains(t.name)) continue;
        double s = 0;
        for (float v : t.values) s += double(v);
        INFO(t.name);
        CHECK(s == Approx(sums[t.name].get<double>()).epsilon(1e-12).margin(1e-9));
        ++checked;
    }
    CHECK(checked == 5 + 16);
}

TEST_CASE("full-size model matches PyTorch for 3 to 512 tokens, in one batch or many", "[fullsize][parity]") {
    Checkpoints ck;
    const std::string f32 = ck.make("f32", "F32", 1, "", false);
    check_float(f32, "cls-f32.npy", 1e-4);
    {
        const auto ids = test::read_ids(kDir / "ids.txt");
        const test::Npy golden = test::read_npy(kDir / "cls-f32.npy");
        const BertModel<double> model(f32);
        PackedBatch b;
        for (const auto& s : ids) b.add(s);
        const RowMatrix<double> h = model.forward(b);
        for (Eigen::Index s = 0; s < b.sequences(); ++s) {
            const double diff = (h.row(b.begin(s)) - golden.data.row(s)).cwiseAbs().maxCoeff();
            INFO("double, sequence of " << b.length(s) << " tokens, max abs diff " << diff);
            CHECK(diff <= 1e-9);
        }
    }
    fs::remove(f32);
    // bert. prefix, old LayerNorm names, three shards: the same weights, the same goldens
    const std::string sharded = ck.make("sharded", "F32", 3, "bert.", true);
    check_float(sharded, "cls-f32.npy", 1e-4);
    fs::remove(sharded);
    check_float(ck.make("f16", "F16", 1, "", false), "cls-f16.npy", 1e-4);
    check_float(ck.make("bf16", "BF16", 2, "", false), "cls-bf16.npy", 1e-4);
}

// torch.save's .bin at full size needs PyTorch to write it, so it runs where the checkpoints
// were made: /usr/bin/python3 tests/fixtures/make_fixtures.py --fullsize --checkpoints DIR, then
// MICSE_FULLSIZE_CHECKPOINTS=DIR.
TEST_CASE("full-size torch.save checkpoints convert and match PyTorch", "[fullsize][parity][.local]") {
    const char* dir = std::getenv("MICSE_FULLSIZE_CHECKPOINTS");
    if (!dir) {
        WARN("MICSE_FULLSIZE_CHECKPOINTS is not set: skipped");
        return;
    }
    test::TempDir out;
    convert::convert_checkpoint((fs::path(dir) / "bin").string(), out / "bin.gguf");
    check_float(out / "bin.gguf", "cls-f32.npy", 1e-4);
    convert::convert_checkpoint((fs::path(dir) / "bin-bf16").string(), out / "bf16.gguf");
    check_float(out / "bf16.gguf", "cls-bf16.npy", 1e-4);
}
