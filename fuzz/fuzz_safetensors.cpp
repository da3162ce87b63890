// The safetensors reader on arbitrary files: header length, JSON header, dtypes, shapes and data
// offsets, then every tensor loaded as float.
#include <convert/checkpoint.hpp>

#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string path = micse::fuzz::write_file("model.safetensors", data, size);
    try {
        std::vector<micse::convert::SourceTensor> tensors;
        micse::convert::detail::read_safetensors(path, tensors);
        for (const auto& t : tensors) {
            try {
                const auto values = t.load();
                micse::fuzz::require(std::int64_t(values.size()) == t.numel(), "a tensor loads numel values");
            } catch (const micse::Error&) {
            }
        }
    } catch (const micse::Error&) {
    }
    return 0;
}
