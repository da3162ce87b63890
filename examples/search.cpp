// search MODEL.gguf CORPUS.txt [QUERY ...] [--top-k K] [--max-length N]
// Semantic search: embeds the corpus (one sentence per line), then answers each query (the
// arguments, else one per line of standard input) with the K most similar corpus lines.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <numeric>
#include <string>
#include <vector>

#include <micse/micse.hpp>

#include "common/cli.hpp"
#include "common/progress.hpp"

static const char* kUsage =
    "usage: search MODEL.gguf CORPUS.txt [QUERY ...] [--top-k K] [--max-length N] [--progress]\n"
    "\n"
    "Embeds every line of CORPUS.txt, then prints, for each query (the arguments, else one\n"
    "per line of standard input), the K corpus lines with the highest cosine similarity:\n"
    "  <rank><TAB><score><TAB><line>\n"
    "after a `query<TAB><text>` line; a blank line separates queries.\n"
    "\n"
    "  --top-k K        results per query (default 5)\n"
    "  --max-length N   tokens per sentence (default: the model's maximum)\n"
    "  --progress       show the indexing progress even when stderr is not a terminal\n"
    "  --help           this text\n";

int main(int argc, char** argv) {
    using micse::cli::UsageError;
    std::string model, corpus_path;
    std::vector<std::string> queries;
    int top_k = 5;
    bool progress = false;
    micse::EncoderOptions options;
    options.normalize = true;  // cosine similarity becomes a dot product
    try {
        micse::cli::Args args(argc, argv);
        while (args.next()) {
            if (args.is("--help") || args.is("-h")) {
                std::cout << kUsage;
                return 0;
            } else if (args.is("--top-k")) {
                top_k = micse::cli::parse_int("--top-k", args.value(), 1, 1 << 20);
            } else if (args.is("--max-length")) {
                options.max_length = micse::cli::parse_int("--max-length", args.value(), 2, 1 << 20);
            } else if (args.is("--progress")) {
                progress = true;
            } else if (args.current().size() > 2 && args.current().compare(0, 2, "--") == 0) {
                throw UsageError("unknown option " + args.current());
            } else if (model.empty()) {
                model = args.current();
            } else if (corpus_path.empty()) {
                corpus_path = args.current();
            } else {
                queries.push_back(args.current());
            }
        }
        if (corpus_path.empty()) throw UsageError("needs MODEL.gguf and CORPUS.txt");
    } catch (const UsageError& e) {
        std::cerr << "search: " << e.what() << "\n" << kUsage;
        return 2;
    }
    try {
        const micse::Encoder encoder(model, options);
        std::ifstream in(corpus_path, std::ios::binary);
        if (!in) throw micse::Error(corpus_path + ": cannot open");
        std::vector<std::string> corpus;
        for (std::string line; micse::cli::read_line(in, line);)
            if (!line.empty()) corpus.push_back(line);
        if (corpus.empty()) throw micse::Error(corpus_path + ": no sentences");

        // The index: unit-length rows, embedded a batch at a time so progress can be shown.
        Eigen::MatrixXf index(Eigen::Index(corpus.size()), encoder.dimension());
        micse::cli::Progress bar(corpus.size(), "sentences", progress);
        const std::size_t step = std::size_t(options.batch_size) * 4;
        for (std::size_t i = 0; i < corpus.size(); i += step) {
            const std::vector<std::string> part(corpus.begin() + std::ptrdiff_t(i),
                                                corpus.begin() + std::ptrdiff_t(std::min(corpus.size(), i + step)));
            index.middleRows(Eigen::Index(i), Eigen::Index(part.size())) = encoder.encode(part);
            bar.advance(part.size());
        }
        bar.finish();

        auto answer = [&](const std::string& query) {
            const Eigen::RowVectorXf q = encoder.encode({query}).row(0);
            const Eigen::VectorXf scores = index * q.transpose();  // [corpus]
            std::vector<Eigen::Index> order(corpus.size());
            std::iota(order.begin(), order.end(), 0);
            const std::size_t k = std::min(order.size(), std::size_t(top_k));
            std::partial_sort(order.begin(), order.begin() + std::ptrdiff_t(k), order.end(),
                              [&](Eigen::Index a, Eigen::Index b) { return scores(a) > scores(b); });
            std::printf("query\t%s\n", query.c_str());
            for (std::size_t r = 0; r < k; ++r)
                std::printf("%zu\t%.4f\t%s\n", r + 1, double(scores(order[r])), corpus[std::size_t(order[r])].c_str());
            std::printf("\n");
            std::fflush(stdout);
        };
        if (!queries.empty())
            for (const auto& q : queries) answer(q);
        else
            for (std::string line; micse::cli::read_line(std::cin, line);)
                if (!line.empty()) answer(line);
    } catch (const std::exception& e) {
        std::cerr << "search: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
