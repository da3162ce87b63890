// The converter's JSON handling: config.json, tokenizer_config.json and special_tokens_map.json
// are the fuzzer's (three documents separated by NUL bytes); vocab.txt and the weights are the
// repository's plain fixture. Conversion either succeeds or throws micse::Error and leaves no
// output file behind.
#include <convert/converter.hpp>

#include "fuzz_common.hpp"

#ifndef MICSE_FIXTURES
#error "MICSE_FIXTURES: the path of tests/fixtures"
#endif

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace fs = std::filesystem;
    static const fs::path dir = [] {
        const fs::path d = micse::fuzz::scratch_dir() / "checkpoint";
        const fs::path plain = fs::path(MICSE_FIXTURES) / "hf" / "plain";
        fs::create_directories(d);
        fs::copy_file(plain / "vocab.txt", d / "vocab.txt", fs::copy_options::overwrite_existing);
        fs::copy_file(plain / "model.safetensors", d / "model.safetensors", fs::copy_options::overwrite_existing);
        return d;
    }();
    const char* names[3] = {"config.json", "tokenizer_config.json", "special_tokens_map.json"};
    std::size_t begin = 0;
    for (int part = 0; part < 3; ++part) {
        std::size_t end = std::min(begin, size);
        while (end < size && data[end] != 0) ++end;
        if (part == 0 || begin < size)  // config.json is always there; the others when given
            micse::fuzz::write_file("checkpoint/" + std::string(names[part]), data + std::min(begin, size),
                                    end - std::min(begin, size));
        else
            fs::remove(dir / names[part]);
        begin = end + 1;
    }
    const fs::path out = dir / "out.gguf";
    fs::remove(out);
    try {
        micse::convert::convert_checkpoint(dir.string(), out.string());
        micse::fuzz::require(fs::exists(out), "a conversion that succeeds writes its file");
    } catch (const micse::Error&) {
        micse::fuzz::require(!fs::exists(out), "a failed conversion leaves no file");
        for (const auto& e : fs::directory_iterator(dir))
            micse::fuzz::require(e.path().filename().string().find("out.gguf") == std::string::npos,
                                 "a failed conversion leaves no temporary file");
    }
    return 0;
}
