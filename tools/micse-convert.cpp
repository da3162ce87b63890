// micse-convert HF_DIR OUT.gguf [--dtype f32|f16] [--name NAME]
// A Hugging Face BERT checkpoint directory to one GGUF file, with no Python.
#include <cstdio>
#include <iostream>
#include <string>

#include "common/cli.hpp"
#include "convert/converter.hpp"

static const char* kUsage =
    "usage: micse-convert HF_DIR OUT.gguf [--dtype f32|f16] [--name NAME]\n"
    "\n"
    "Converts a Hugging Face BERT checkpoint directory (config.json, vocab.txt,\n"
    "tokenizer_config.json / special_tokens_map.json, and model.safetensors,\n"
    "pytorch_model.bin or their sharded forms) into one GGUF file that micse and\n"
    "llama.cpp load. OUT.gguf appears only when the conversion has succeeded.\n"
    "\n"
    "  --dtype f32|f16  storage type of the 2-D weights (default f32); norms, biases and\n"
    "                   the position and token-type tables stay f32\n"
    "  --name NAME      general.name (default: the checkpoint folder's name)\n"
    "  --help           this text\n";

int main(int argc, char** argv) {
    using micse::cli::UsageError;
    std::string in, out;
    micse::convert::ConvertOptions options;
    try {
        micse::cli::Args args(argc, argv);
        while (args.next()) {
            if (args.is("--help") || args.is("-h")) {
                std::cout << kUsage;
                return 0;
            } else if (args.is("--dtype")) {
                const std::string v = args.value();
                if (v == "f32") options.type = micse::convert::OutType::f32;
                else if (v == "f16") options.type = micse::convert::OutType::f16;
                else throw UsageError("--dtype must be f32 or f16, got '" + v + "'");
            } else if (args.is("--name")) {
                options.name = args.value();
            } else {
                args.operand({&in, &out});
            }
        }
        if (out.empty()) throw UsageError("needs HF_DIR and OUT.gguf");
    } catch (const UsageError& e) {
        std::cerr << "micse-convert: " << e.what() << "\n" << kUsage;
        return 2;
    }
    try {
        const auto report = micse::convert::convert_checkpoint(in, out, options);
        for (const auto& s : report.skipped) std::cerr << "skipped (not part of the encoder): " << s << "\n";
        std::cerr << "wrote " << out << ": " << report.tensors_written << " tensors, " << report.bytes << " bytes\n";
    } catch (const std::exception& e) {
        std::cerr << "micse-convert: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
