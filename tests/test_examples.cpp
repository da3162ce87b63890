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

// ---- the statistics, against scipy and scikit-learn (tests/fixtures/stats.json) ---------------
#include <nlohmann/json.hpp>

#include "stats.hpp"

namespace {
nlohmann::json stats_goldens() { return nlohmann::json::parse(std::ifstream(test::fixtures() / "stats.json")); }
std::string run_output(const std::string& command, const test::TempDir& dir, int& status) {
    status = test::run(command + " > '" + (dir / "out.txt") + "'");
    std::ifstream in(dir / "out.txt");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}
std::string example(const std::string& name) { return "'" + (test::fs::path(MICSE_EXAMPLES_DIR) / name).string() + "'"; }
}  // namespace

TEST_CASE("Spearman and Pearson equal scipy's, ties included", "[examples][stats]") {
    const auto g = stats_goldens();
    const auto x = g["x"].get<std::vector<double>>(), y = g["y"].get<std::vector<double>>();
    CHECK(micse::stats::spearman(x, y) == Approx(g["spearman"].get<double>()).epsilon(1e-12));
    CHECK(micse::stats::pearson(x, y) == Approx(g["pearson"].get<double>()).epsilon(1e-12));
}

TEST_CASE("NMI equals scikit-learn's, purity the contingency table's", "[examples][stats]") {
    const auto g = stats_goldens();
    const auto a = g["a"].get<std::vector<int>>(), b = g["b"].get<std::vector<int>>();
    CHECK(micse::stats::nmi(a, b) == Approx(g["nmi"].get<double>()).epsilon(1e-12));
    CHECK(micse::stats::purity(a, b) == Approx(g["purity"].get<double>()).epsilon(1e-12));
    CHECK(micse::stats::nmi(a, a) == Approx(1.0));
}

TEST_CASE("PCA equals numpy's SVD projection up to the sign of each axis", "[examples][stats]") {
    const auto g = stats_goldens();
    const auto pts = g["points"].get<std::vector<std::vector<double>>>();
    const auto ref = g["pca"].get<std::vector<std::vector<double>>>();
    Eigen::MatrixXd x(Eigen::Index(pts.size()), Eigen::Index(pts[0].size()));
    for (std::size_t i = 0; i < pts.size(); ++i)
        for (std::size_t j = 0; j < pts[i].size(); ++j) x(Eigen::Index(i), Eigen::Index(j)) = pts[i][j];
    const Eigen::MatrixXd p = micse::stats::pca2(x);
    for (int axis = 0; axis < 2; ++axis) {
        const double sign = (p(0, axis) * ref[0][std::size_t(axis)]) < 0 ? -1.0 : 1.0;
        for (Eigen::Index i = 0; i < p.rows(); ++i) CHECK(sign * p(i, axis) == Approx(ref[std::size_t(i)][std::size_t(axis)]).margin(1e-9));
    }
}

TEST_CASE("k-means++ finds well-separated groups exactly", "[examples][stats]") {
    std::mt19937 rng(3);
    std::normal_distribution<double> noise(0.0, 0.1);
    Eigen::MatrixXd x(60, 3);
    std::vector<int> truth;
    for (int i = 0; i < 60; ++i) {
        const int g = i % 3;
        truth.push_back(g);
        for (int j = 0; j < 3; ++j) x(i, j) = (j == g ? 5.0 : 0.0) + noise(rng);
    }
    const auto km = micse::stats::kmeans(x, 3, 1);
    CHECK(micse::stats::nmi(km.assignment, truth) == Approx(1.0));
    CHECK(micse::stats::purity(km.assignment, truth) == 1.0);
}

// ---- the example programs ----------------------------------------------------------------------

TEST_CASE("sts-eval prints scipy's correlations of PyTorch's cosines, in both file layouts", "[examples][parity]") {
    test::TempDir dir;
    const auto g = nlohmann::json::parse(std::ifstream(test::fixtures() / "sts" / "demo-goldens.json"));
    for (const char* file : {"pairs.tsv", "stsb-layout.tsv"}) {
        INFO(file);
        int status;
        const std::string out = run_output(example("sts-eval") + " '" + test::converted("demo") + "' '" +
                                               (test::fixtures() / "sts" / file).string() + "' 2> /dev/null", dir, status);
        REQUIRE(status == 0);
        double spearman = 1e9, pearson = 1e9;
        std::istringstream in(out);
        for (std::string key; in >> key;) {
            if (key == "spearman") in >> spearman;
            if (key == "pearson") in >> pearson;
        }
        CHECK(std::fabs(spearman - g["spearman"].get<double>()) <= 0.005 + 1e-9);  // printed with 2 decimals
        CHECK(std::fabs(pearson - g["pearson"].get<double>()) <= 0.005 + 1e-9);
    }
    test::write_bytes(dir / "bad.tsv", {'x', '\t', 'a', '\t', 'b', '\n'});
    int status;
    run_output(example("sts-eval") + " '" + test::converted("demo") + "' '" + (dir / "bad.tsv") + "' 2> /dev/null", dir, status);
    CHECK(status == 1);
}

TEST_CASE("search returns a corpus sentence first, with score 1, when asked for it", "[examples]") {
    test::TempDir dir;
    const std::string corpus = (test::fixtures() / "tokenizer" / "english.txt").string();
    int status;
    const std::string out = run_output(example("search") + " '" + test::converted("demo") + "' '" + corpus +
                                           "' 'Apache License Version 2.0, January 2004 http://www.apache.org/licenses/' --top-k 3",
                                       dir, status);
    REQUIRE(status == 0);
    std::istringstream in(out);
    std::string line;
    std::getline(in, line);
    CHECK(line.rfind("query\t", 0) == 0);
    std::getline(in, line);
    CHECK(line == "1\t1.0000\tApache License Version 2.0, January 2004 http://www.apache.org/licenses/");
    int results = 1;
    while (std::getline(in, line) && !line.empty()) ++results;
    CHECK(results == 3);
    // queries from standard input, one per line
    const std::string two = run_output("printf 'first query\\nsecond query\\n' | " + example("search") + " '" +
                                           test::converted("demo") + "' '" + corpus + "' --top-k 2", dir, status);
    CHECK(status == 0);
    CHECK(std::count(two.begin(), two.end(), '\n') == 2 * (1 + 2 + 1));
}

TEST_CASE("cluster writes a plot of every item and prints its agreement scores", "[examples]") {
    test::TempDir dir;
    int status;
    const std::string out = run_output(example("cluster") + " '" + test::converted("demo") + "' '" +
                                           (test::fs::path(MICSE_SOURCE_DIR) / "examples" / "data" / "topics.tsv").string() +
                                           "' -o '" + (dir / "plot.svg") + "'", dir, status);
    REQUIRE(status == 0);
    CHECK(out.find("items 48\nlabels 4\nclusters 4\n") != std::string::npos);
    const auto nmi_at = out.find("nmi ");
    REQUIRE(nmi_at != std::string::npos);
    const double nmi = std::stod(out.substr(nmi_at + 4));
    CHECK((nmi >= 0 && nmi <= 1));
    std::ifstream svg(dir / "plot.svg");
    std::stringstream ss;
    ss << svg.rdbuf();
    const std::string s = ss.str();
    CHECK(s.rfind("<svg ", 0) == 0);
    CHECK(s.find("</svg>") != std::string::npos);
    std::size_t titles = 0;
    for (auto p = s.find("<title>"); p != std::string::npos; p = s.find("<title>", p + 1)) ++titles;
    CHECK(titles == 48 + 4 + 4);  // every item, then the legend's labels and clusters
    CHECK(test::run(example("cluster") + " '" + test::converted("demo") + "' '" + (dir / "none.tsv") + "' 2> /dev/null") == 1);
}
