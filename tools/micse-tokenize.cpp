// micse-tokenize MODEL.gguf|vocab.txt [INPUT] [--max-length N]
// One line of token ids per input line: [CLS] pieces [SEP], as BertTokenizerFast gives them.
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>

#include <micse/gguf.hpp>
#include <micse/tokenizer.hpp>

#include "common/cli.hpp"

static const char* kUsage =
    "usage: micse-tokenize MODEL.gguf|vocab.txt [INPUT] [--max-length N]\n"
    "\n"
    "Prints the token ids of each input line (UTF-8; a trailing '\\r' is dropped),\n"
    "space-separated, with [CLS] and [SEP]. INPUT defaults to standard input.\n"
    "A GGUF file brings its own tokenizer settings; a vocab.txt is read with\n"
    "bert-base-uncased's (lowercase, strip accents, split CJK ideographs).\n"
    "\n"
    "  --max-length N   at most N ids per line (default: the model's maximum, or 512)\n"
    "  --help           this text\n";

static bool is_gguf(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    char magic[4] = {};
    in.read(magic, 4);
    return in && std::memcmp(magic, "GGUF", 4) == 0;
}

int main(int argc, char** argv) {
    using micse::cli::UsageError;
    std::string model, input;
    int max_length = 0;
    try {
        micse::cli::Args args(argc, argv);
        while (args.next()) {
            if (args.is("--help") || args.is("-h")) {
                std::cout << kUsage;
                return 0;
            } else if (args.is("--max-length")) {
                max_length = micse::cli::parse_int("--max-length", args.value(), 2, 1 << 20);
            } else {
                args.operand({&model, &input});
            }
        }
        if (model.empty()) throw UsageError("needs MODEL.gguf or vocab.txt");
    } catch (const UsageError& e) {
        std::cerr << "micse-tokenize: " << e.what() << "\n" << kUsage;
        return 2;
    }
    try {
        std::optional<micse::Tokenizer> tok;
        int model_max = 512;
        if (is_gguf(model)) {
            const micse::gguf::File f(model);
            tok = micse::Tokenizer::from_gguf(f);
            model_max = int(f.get_uint("micse.tokenizer.model_max_length", f.get_uint("bert.context_length", 512)));
        } else {
            tok = micse::Tokenizer::from_vocab_file(model);
        }
        if (max_length == 0) max_length = model_max;
        std::ifstream file;
        std::istream* in = &std::cin;
        if (!input.empty() && input != "-") {
            file.open(input, std::ios::binary);
            if (!file) throw micse::Error(input + ": cannot open");
            in = &file;
        }
        const std::string source = in == &file ? input : "standard input";
        std::string line, out;
        std::uint64_t line_no = 0;
        while (micse::cli::read_line(*in, line)) {
            ++line_no;
            out.clear();
            std::vector<std::int32_t> ids;
            try {
                ids = tok->encode(line, max_length);
            } catch (const micse::Error& e) {
                throw micse::Error(source + ": line " + std::to_string(line_no) + ": " + e.what());
            }
            for (const auto id : ids) {
                if (!out.empty()) out += ' ';
                out += std::to_string(id);
            }
            out += '\n';
            std::cout << out;
        }
        if (in->bad()) throw micse::Error(source + ": read failed");
        std::cout.flush();
        if (!std::cout) throw micse::Error("standard output: write failed");
    } catch (const std::exception& e) {
        std::cerr << "micse-tokenize: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
