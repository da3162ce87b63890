#pragma once
// Helpers shared by the tests: where the fixtures are, reading PyTorch's .npy goldens and the
// id lists beside them, and scratch directories that clean themselves up.
#include <Eigen/Core>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <micse/error.hpp>

namespace test {

namespace fs = std::filesystem;

inline fs::path fixtures() { return fs::path(MICSE_FIXTURES); }
inline fs::path hf_fixture(const std::string& name) { return fixtures() / "hf" / name; }
inline fs::path shared() { return fs::path(MICSE_SHARED); }
inline fs::path llamacpp() { return shared() / "fixtures" / "llamacpp-bert"; }
inline fs::path tool(const std::string& name) { return fs::path(MICSE_TOOLS_DIR) / name; }

// The whole file as bytes ("" when it cannot be read: the caller's CHECK then says what differs).
inline std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// A path or argument quoted for the shell.
inline std::string quote(const std::string& s) { return "'" + s + "'"; }

// A fresh directory under the system's temporary folder, removed with everything in it.
struct TempDir {
    fs::path path;
    TempDir() {
        std::random_device rd;
        path = fs::temp_directory_path() / ("micse-test-" + std::to_string(rd()) + std::to_string(rd()));
        fs::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    std::string operator/(const std::string& name) const { return (path / name).string(); }
};

inline std::vector<std::uint8_t> read_bytes(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::vector<std::uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline void write_bytes(const fs::path& p, const std::vector<std::uint8_t>& b) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}

// A NumPy array of float32 or float64, C order, as float64 [rows, cols] (1-D: one row per value,
// 3-D: the first dimensions folded into rows).
struct Npy {
    std::vector<std::size_t> shape;
    Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> data;
};

inline Npy read_npy(const fs::path& p) {
    const auto b = read_bytes(p);
    if (b.size() < 10 || std::memcmp(b.data(), "\x93NUMPY", 6) != 0) throw micse::Error(p.string() + ": not .npy");
    std::size_t header_len, start;
    if (b[6] == 1) {
        header_len = b[8] | (b[9] << 8);
        start = 10;
    } else {
        header_len = b[8] | (b[9] << 8) | (std::size_t(b[10]) << 16) | (std::size_t(b[11]) << 24);
        start = 12;
    }
    const std::string h(b.begin() + std::ptrdiff_t(start), b.begin() + std::ptrdiff_t(start + header_len));
    const bool f8 = h.find("'<f8'") != std::string::npos;
    if (!f8 && h.find("'<f4'") == std::string::npos) throw micse::Error(p.string() + ": not float32/float64");
    if (h.find("'fortran_order': False") == std::string::npos) throw micse::Error(p.string() + ": Fortran order");
    Npy n;
    const auto open = h.find('(', h.find("'shape'")), close = h.find(')', open);
    std::stringstream ss(h.substr(open + 1, close - open - 1));
    std::string item;
    while (std::getline(ss, item, ','))
        if (item.find_first_of("0123456789") != std::string::npos) n.shape.push_back(std::stoul(item));
    std::size_t total = 1;
    for (auto d : n.shape) total *= d;
    const std::size_t cols = n.shape.empty() ? 1 : n.shape.back();
    n.data.resize(Eigen::Index(total / cols), Eigen::Index(cols));
    const std::uint8_t* d = b.data() + start + header_len;
    if (b.size() - start - header_len < total * (f8 ? 8 : 4)) throw micse::Error(p.string() + ": truncated");
    for (std::size_t i = 0; i < total; ++i) {
        double v;
        if (f8) std::memcpy(&v, d + 8 * i, 8);
        else {
            float f;
            std::memcpy(&f, d + 4 * i, 4);
            v = f;
        }
        n.data.data()[i] = v;
    }
    return n;
}

// One sequence of token ids per line (ids.txt) or per JSON array line (ids.jsonl).
inline std::vector<std::vector<std::int32_t>> read_ids(const fs::path& p) {
    std::ifstream in(p);
    std::vector<std::vector<std::int32_t>> out;
    std::string line;
    while (std::getline(in, line)) {
        for (char& c : line)
            if (c == '[' || c == ']' || c == ',') c = ' ';
        std::istringstream ls(line);
        std::vector<std::int32_t> ids;
        long v;
        while (ls >> v) ids.push_back(std::int32_t(v));
        if (!ids.empty()) out.push_back(ids);
    }
    return out;
}

inline int run(const std::string& command) {
    const int status = std::system(command.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace test
