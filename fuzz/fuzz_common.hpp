#pragma once
// Shared by the libFuzzer targets. Readers that take a path (they memory-map or open an archive)
// get the fuzzer's bytes through a per-process scratch file, so every target runs the same code
// the tools run.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace micse::fuzz {

// A private folder for this process, removed at exit.
inline const std::filesystem::path& scratch_dir() {
    static const std::filesystem::path dir = [] {
        namespace fs = std::filesystem;
        const char* tmp = std::getenv("TMPDIR");
        const fs::path base = fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::path(tmp ? tmp : "/tmp");
        // the pid padded to a fixed width: the name's length changes allocation sizes, and with
        // them the addresses that scripts/fuzz.sh --ci needs to be the same from run to run
        char name[32];
        std::snprintf(name, sizeof name, "micse-fuzz-%07ld", long(::getpid()));
        const fs::path d = base / name;
        fs::create_directories(d);
        std::atexit([] {
            std::error_code ec;
            std::filesystem::remove_all(scratch_dir(), ec);
        });
        return d;
    }();
    return dir;
}

inline std::string write_file(const std::string& name, const std::uint8_t* data, std::size_t size) {
    const std::string path = (scratch_dir() / name).string();
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), std::streamsize(size));
    if (!out) {
        std::fprintf(stderr, "fuzz: cannot write %s\n", path.c_str());
        std::abort();
    }
    return path;
}

// An invariant the code under test broke: a finding, reported like a crash.
inline void require(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "fuzz: invariant broken: %s\n", what);
        std::abort();
    }
}

}  // namespace micse::fuzz
