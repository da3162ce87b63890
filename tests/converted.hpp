#pragma once
// The small Hugging Face fixtures converted once per test run (into a scratch folder).
#include <map>
#include <string>

#include "common.hpp"
#include "convert/converter.hpp"

namespace test {

inline const std::vector<std::string>& variants() {
    static const std::vector<std::string> v = {"plain", "sharp", "fp16", "bf16", "prefixed", "sharded", "sharded-bin", "oldnames"};
    return v;
}

// Path of the GGUF converted from tests/fixtures/hf/<variant> (f32 unless f16).
inline std::string converted(const std::string& variant, bool f16 = false) {
    static TempDir dir;
    static std::map<std::string, std::string> done;
    const std::string key = variant + (f16 ? "-f16" : "-f32");
    if (!done.count(key)) {
        micse::convert::ConvertOptions o;
        o.type = f16 ? micse::convert::OutType::f16 : micse::convert::OutType::f32;
        const std::string out = dir / (key + ".gguf");
        micse::convert::convert_checkpoint(hf_fixture(variant).string(), out, o);
        done[key] = out;
    }
    return done[key];
}

}  // namespace test
