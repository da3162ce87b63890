// Reference: PyTorch's cosine similarities of the model card's two sentences on the demo model
// (tests/fixtures/hf/demo/goldens, ids from the reference tokenizer at max_length 32).
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "converted.hpp"

TEST_CASE("similarity prints PyTorch's cosine matrix for the model card's sentences", "[examples][parity]") {
    test::TempDir dir;
    const std::string model = test::converted("demo");
    const test::Npy golden = test::read_npy(test::hf_fixture("demo") / "goldens" / "model-card-cosine.npy");
    const std::string exe = (test::fs::path(MICSE_EXAMPLES_DIR) / "similarity").string();
    REQUIRE(test::run("'" + exe + "' '" + model + "' > '" + (dir / "out.txt") + "'") == 0);
    std::ifstream in(dir / "out.txt");
    std::string line;
    std::vector<std::vector<double>> matrix;
    while (std::getline(in, line))
        if (line.rfind("  [", 0) == 0) {  // a matrix row: "  [i]  v v"
            std::istringstream ls(line.substr(line.find(']') + 1));
            std::vector<double> row;
            for (double v; ls >> v;) row.push_back(v);
            matrix.push_back(row);
        }
    REQUIRE(matrix.size() == 2);
    for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 2; ++j) CHECK(std::fabs(matrix[std::size_t(i)][std::size_t(j)] - golden.data(i, j)) <= 1e-4);
    CHECK(test::run("'" + exe + "' 2> /dev/null") == 2);
    CHECK(test::run("'" + exe + "' '" + (dir / "missing.gguf") + "' 2> /dev/null") == 1);
}
