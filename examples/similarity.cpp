// similarity MODEL.gguf [SENTENCE ...] [--max-length N]
// The miCSE model card's first example: embed sentences ([CLS] vectors) and print their
// cosine-similarity matrix. Default: the card's two test sentences, max_length 32 as on the card.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <micse/micse.hpp>

#include "common/cli.hpp"

static const char* kUsage =
    "usage: similarity MODEL.gguf [SENTENCE ...] [--max-length N]\n"
    "\n"
    "Prints the cosine similarity of every pair of sentences (default: the miCSE model\n"
    "card's two test sentences) using their [CLS] embeddings.\n"
    "\n"
    "  --max-length N   tokens per sentence, [CLS] and [SEP] included (default 32, as on the card)\n"
    "  --help           this text\n";

int main(int argc, char** argv) {
    using micse::cli::UsageError;
    std::string model;
    std::vector<std::string> sentences;
    micse::EncoderOptions options;
    options.max_length = 32;
    try {
        micse::cli::Args args(argc, argv);
        while (args.next()) {
            if (args.is("--help") || args.is("-h")) {
                std::cout << kUsage;
                return 0;
            } else if (args.is("--max-length")) {
                options.max_length = micse::cli::parse_int("--max-length", args.value(), 2, 1 << 20);
            } else if (args.current().size() > 2 && args.current().compare(0, 2, "--") == 0) {
                throw UsageError("unknown option " + args.current());
            } else if (model.empty()) {
                model = args.current();
            } else {
                sentences.push_back(args.current());
            }
        }
        if (model.empty()) throw UsageError("needs MODEL.gguf");
    } catch (const UsageError& e) {
        std::cerr << "similarity: " << e.what() << "\n" << kUsage;
        return 2;
    }
    if (sentences.empty())
        sentences = {"This is a sentence for testing miCSE.",
                     "This is yet another test sentence for the mutual information Contrastive Sentence Embeddings model."};
    try {
        const micse::Encoder encoder(model, options);
        const Eigen::MatrixXf e = encoder.encode(sentences);  // [sentences, hidden]
        for (std::size_t i = 0; i < sentences.size(); ++i) std::printf("[%zu] %s\n", i, sentences[i].c_str());
        std::printf("\ncosine similarity\n     ");
        for (std::size_t j = 0; j < sentences.size(); ++j) std::printf(" %8s", ("[" + std::to_string(j) + "]").c_str());
        std::printf("\n");
        for (std::size_t i = 0; i < sentences.size(); ++i) {
            std::printf("%5s", ("[" + std::to_string(i) + "]").c_str());
            for (std::size_t j = 0; j < sentences.size(); ++j)
                std::printf(" %8.4f", micse::cosine_similarity(e.row(Eigen::Index(i)), e.row(Eigen::Index(j))));
            std::printf("\n");
        }
    } catch (const std::exception& e) {
        std::cerr << "similarity: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
