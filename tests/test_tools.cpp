// Reference: the command-line contracts of docs/design.md (exit 0 / 1 / 2, one line on stderr for
// a runtime error, output formats) and PyTorch's [CLS] vectors for the values printed.
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "converted.hpp"

TEST_CASE("micse-convert: help, usage errors, runtime errors, success", "[tools]") {
    test::TempDir dir;
    const std::string conv = test::quote(test::tool("micse-convert").string());
    CHECK(test::run(conv + " --help > " + test::quote(dir / "help.txt")) == 0);
    CHECK(test::slurp(dir / "help.txt").find("usage: micse-convert") != std::string::npos);
    CHECK(test::run(conv + " 2> /dev/null") == 2);
    CHECK(test::run(conv + " a b --dtype f8 2> /dev/null") == 2);
    CHECK(test::run(conv + " " + test::quote(dir / "nowhere") + " " + test::quote(dir / "o.gguf") + " 2> " + test::quote(dir / "err.txt")) == 1);
    const std::string err = test::slurp(dir / "err.txt");
    CHECK(err.find("nowhere") != std::string::npos);
    CHECK(std::count(err.begin(), err.end(), '\n') == 1);
    CHECK_FALSE(std::filesystem::exists(dir / "o.gguf"));
    CHECK(test::run(conv + " " + test::quote(test::hf_fixture("prefixed").string()) + " " + test::quote(dir / "o.gguf") + " --dtype f16 2> " +
                    test::quote(dir / "log.txt")) == 0);
    CHECK(test::slurp(dir / "log.txt").find("skipped (not part of the encoder): bert.pooler.dense.weight") != std::string::npos);
    CHECK(std::filesystem::exists(dir / "o.gguf"));
}

TEST_CASE("micse-embed --ids: tsv, jsonl and npy give PyTorch's vectors in input order", "[tools][parity]") {
    test::TempDir dir;
    const std::string embed = test::quote(test::tool("micse-embed").string());
    const std::string model = test::quote(test::converted("sharp"));
    const std::string ids = test::quote((test::hf_fixture("sharp") / "goldens" / "ids.txt").string());
    const test::Npy golden = test::read_npy(test::hf_fixture("sharp") / "goldens" / "cls.npy");

    REQUIRE(test::run(embed + " " + model + " " + ids + " --ids --batch-size 4 > " + test::quote(dir / "out.tsv")) == 0);
    std::ifstream tsv(dir / "out.tsv");
    std::string line;
    Eigen::Index row = 0;
    while (std::getline(tsv, line)) {
        std::istringstream ls(line);
        std::vector<double> v;
        for (std::string cell; std::getline(ls, cell, '\t');) v.push_back(std::stod(cell));
        REQUIRE(Eigen::Index(v.size()) == golden.data.cols());
        for (Eigen::Index c = 0; c < golden.data.cols(); ++c) CHECK(std::fabs(v[std::size_t(c)] - golden.data(row, c)) <= 1e-4);
        ++row;
    }
    CHECK(row == golden.data.rows());

    REQUIRE(test::run(embed + " " + model + " --ids --format npy -o " + test::quote(dir / "out.npy") + " < " + ids) == 0);
    const test::Npy npy = test::read_npy(dir / "out.npy");
    CHECK(npy.shape == std::vector<std::size_t>{std::size_t(golden.data.rows()), 32});
    CHECK((npy.data - golden.data).cwiseAbs().maxCoeff() <= 1e-4);

    REQUIRE(test::run(embed + " " + model + " " + ids + " --ids --format jsonl -o " + test::quote(dir / "out.jsonl")) == 0);
    std::ifstream jl(dir / "out.jsonl");
    row = 0;
    while (std::getline(jl, line)) {
        const auto j = nlohmann::json::parse(line);
        CHECK(std::fabs(j["embedding"][0].get<double>() - golden.data(row, 0)) <= 1e-4);
        ++row;
    }
    CHECK(row == golden.data.rows());
}

TEST_CASE("micse-embed: bad input exits 1 with one line and leaves no output file", "[tools][damaged]") {
    test::TempDir dir;
    const std::string embed = test::quote(test::tool("micse-embed").string());
    const std::string model = test::quote(test::converted("sharp"));
    test::write_bytes(dir / "bad.txt", {'1', '0', '1', ' ', 'x', '\n'});
    CHECK(test::run(embed + " " + model + " " + test::quote(dir / "bad.txt") + " --ids -o " + test::quote(dir / "o.tsv") + " 2> " + test::quote(dir / "err")) == 1);
    CHECK(test::slurp(dir / "err").find("line 1: 'x' is not a token id") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(dir / "o.tsv"));
    test::write_bytes(dir / "range.txt", {'1', '0', '1', ' ', '9', '9', '9', '9', ' ', '1', '0', '2', '\n'});
    CHECK(test::run(embed + " " + model + " " + test::quote(dir / "range.txt") + " --ids 2> " + test::quote(dir / "err")) == 1);
    CHECK(test::slurp(dir / "err").find("id 9999 is outside the vocabulary") != std::string::npos);
    CHECK(test::run(embed + " " + test::quote(dir / "missing.gguf") + " --ids < /dev/null 2> " + test::quote(dir / "err")) == 1);
    CHECK(test::slurp(dir / "err").find("missing.gguf") != std::string::npos);
    CHECK(test::run(embed + " " + model + " --format npy --ids < /dev/null 2> /dev/null") == 2);
    CHECK(test::run(embed + " " + model + " --max-length 1 --ids < /dev/null 2> /dev/null") == 2);
    CHECK(test::run(embed + " " + model + " --max-length 100 --ids < /dev/null 2> " + test::quote(dir / "err")) == 1);
    CHECK(test::slurp(dir / "err").find("max_length 100") != std::string::npos);
}

TEST_CASE("micse-tokenize prints the reference's ids, from a GGUF or a vocab.txt", "[tools][tokenizer]") {
    test::TempDir dir;
    const std::string tok = test::quote(test::tool("micse-tokenize").string());
    const std::string hard = test::quote((test::fixtures() / "tokenizer" / "hard.txt").string());
    const std::string vocab = test::quote((test::shared() / "vocab" / "bert-base-uncased-vocab.txt").string());
    const std::string gguf = test::quote(test::converted("demo"));
    for (const auto& [source, n] : std::vector<std::pair<std::string, int>>{{vocab, 512}, {gguf, 512}, {vocab, 32}}) {
        INFO(source << " at max_length " << n);
        const std::string flag = n == 32 ? " --max-length 32" : "";
        REQUIRE(test::run(tok + " " + source + " " + hard + flag + " > " + test::quote(dir / "out.txt")) == 0);
        CHECK(test::slurp(dir / "out.txt") == test::slurp((test::fixtures() / "tokenizer" / ("hard.ids" + std::to_string(n))).string()));
    }
    CHECK(test::run(tok + " 2> /dev/null") == 2);
    CHECK(test::run(tok + " " + test::quote(dir / "none.txt") + " < /dev/null 2> /dev/null") == 1);
}

TEST_CASE("micse-embed text mode equals --ids on the reference's ids", "[tools][tokenizer]") {
    test::TempDir dir;
    const std::string embed = test::quote(test::tool("micse-embed").string());
    const std::string model = test::quote(test::converted("demo"));
    const std::string card = test::quote((test::fixtures() / "tokenizer" / "model-card.txt").string());
    const std::string ids = test::quote((test::fixtures() / "tokenizer" / "model-card.ids32").string());
    REQUIRE(test::run(embed + " " + model + " " + card + " --max-length 32 > " + test::quote(dir / "text.tsv")) == 0);
    REQUIRE(test::run(embed + " " + model + " " + ids + " --ids > " + test::quote(dir / "ids.tsv")) == 0);
    const std::string text = test::slurp(dir / "text.tsv");
    CHECK(text == test::slurp(dir / "ids.tsv"));
    CHECK(std::count(text.begin(), text.end(), '\n') == 2);
}
