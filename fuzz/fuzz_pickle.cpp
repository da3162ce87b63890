// The pickle reader of pytorch_model.bin on arbitrary programs: it runs only the opcodes that
// build plain data and refuses every global a state dict does not need. Anything but a value or
// micse::Error is a finding.
#include <convert/pickle.hpp>

#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        micse::convert::pickle::Reader reader(data, size, "fuzz.pkl");
        const auto root = reader.run();
        micse::fuzz::require(root != nullptr, "a pickle that runs yields a value");
    } catch (const micse::Error&) {
    }
    return 0;
}
