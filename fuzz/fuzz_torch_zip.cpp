// The reader of torch.save's zip archive (pytorch_model.bin) on arbitrary files: the archive, the
// pickled state dict inside it, storage views with offsets and strides, then every tensor loaded.
#include <convert/checkpoint.hpp>

#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string path = micse::fuzz::write_file("pytorch_model.bin", data, size);
    try {
        std::vector<micse::convert::SourceTensor> tensors;
        micse::convert::detail::read_torch_zip(path, tensors);
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
