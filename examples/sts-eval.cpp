// sts-eval MODEL.gguf PAIRS.tsv [--max-length N] [--batch-size N]
// The model card's benchmark: Spearman (and Pearson) correlation x 100 between the cosine
// similarity of each pair's embeddings and the human score. PAIRS.tsv holds
// `score<TAB>sentence1<TAB>sentence2` lines, or the STS-Benchmark layout
// (genre, file, year, id, score, sentence1, sentence2[, sources]). docs/guide.md relates this to
// SentEval's setting.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <micse/micse.hpp>

#include "common/cli.hpp"
#include "stats.hpp"

static const char* kUsage =
    "usage: sts-eval MODEL.gguf PAIRS.tsv [--max-length N] [--batch-size N]\n"
    "\n"
    "Prints `spearman <x100>` and `pearson <x100>`: the correlation between the cosine\n"
    "similarity of each pair's [CLS] embeddings and its human score.\n"
    "PAIRS.tsv: `score<TAB>s1<TAB>s2` lines, or STS-Benchmark's layout\n"
    "(genre, file, year, id, score, s1, s2, ...).\n"
    "\n"
    "  --max-length N   tokens per sentence (default: the model's maximum)\n"
    "  --batch-size N   sentences per forward pass (default 64)\n"
    "  --help           this text\n";

int main(int argc, char** argv) {
    using micse::cli::UsageError;
    std::string model, pairs;
    micse::EncoderOptions options;
    options.batch_size = 64;
    try {
        micse::cli::Args args(argc, argv);
        while (args.next()) {
            if (args.is("--help") || args.is("-h")) {
                std::cout << kUsage;
                return 0;
            } else if (args.is("--max-length")) {
                options.max_length = micse::cli::parse_int("--max-length", args.value(), 2, 1 << 20);
            } else if (args.is("--batch-size")) {
                options.batch_size = micse::cli::parse_int("--batch-size", args.value(), 1, 1 << 20);
            } else {
                args.operand({&model, &pairs});
            }
        }
        if (pairs.empty()) throw UsageError("needs MODEL.gguf and PAIRS.tsv");
    } catch (const UsageError& e) {
        std::cerr << "sts-eval: " << e.what() << "\n" << kUsage;
        return 2;
    }
    try {
        std::ifstream in(pairs, std::ios::binary);
        if (!in) throw micse::Error(pairs + ": cannot open");
        std::vector<double> scores;
        std::vector<std::string> first, second;
        std::string line;
        std::size_t line_no = 0;
        while (micse::cli::read_line(in, line)) {
            ++line_no;
            if (line.empty()) continue;
            std::vector<std::string> f;
            std::stringstream ss(line);
            for (std::string cell; std::getline(ss, cell, '\t');) f.push_back(cell);
            std::size_t s;  // index of the score field
            if (f.size() == 3) s = 0;
            else if (f.size() >= 7) s = 4;
            else
                throw micse::Error(pairs + ": line " + std::to_string(line_no) + ": expected 3 tab-separated fields "
                                   "(score, s1, s2) or STS-Benchmark's 7 or more, found " + std::to_string(f.size()));
            try {
                std::size_t used = 0;
                scores.push_back(std::stod(f[s], &used));
                if (used != f[s].size()) throw std::invalid_argument("");
            } catch (const std::logic_error&) {
                throw micse::Error(pairs + ": line " + std::to_string(line_no) + ": '" + f[s] + "' is not a score");
            }
            first.push_back(f[s + 1]);
            second.push_back(f[s + 2]);
        }
        if (scores.size() < 2) throw micse::Error(pairs + ": needs at least two pairs");
        const micse::Encoder encoder(model, options);
        const Eigen::MatrixXf a = encoder.encode(first), b = encoder.encode(second);
        std::vector<double> cosine(scores.size());
        for (std::size_t i = 0; i < scores.size(); ++i)
            cosine[i] = micse::cosine_similarity(a.row(Eigen::Index(i)), b.row(Eigen::Index(i)));
        std::printf("spearman %.2f\n", 100 * micse::stats::spearman(cosine, scores));
        std::printf("pearson %.2f\n", 100 * micse::stats::pearson(cosine, scores));
        std::fprintf(stderr, "%zu pairs\n", scores.size());
    } catch (const std::exception& e) {
        std::cerr << "sts-eval: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
