#pragma once
// Small helpers shared by the command-line programs: argument parsing with the exit codes of
// design.md (0 success, 1 runtime error, 2 usage error), line input, and array output.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace micse::cli {

// Thrown for a usage error: the program prints the message and its usage, and exits 2.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

inline int parse_int(const std::string& flag, const std::string& value, int lo, int hi) {
    try {
        std::size_t used = 0;
        const long v = std::stol(value, &used);
        if (used != value.size() || v < lo || v > hi) throw std::out_of_range("");
        return int(v);
    } catch (const std::logic_error&) {
        throw UsageError(flag + " needs an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                         "], got '" + value + "'");
    }
}

// Walks argv: flags with a value take the next argument (or --flag=value).
class Args {
public:
    Args(int argc, char** argv) : args_(argv + 1, argv + argc) {}
    bool next() { return ++i_ < args_.size(); }
    const std::string& current() const { return args_[i_]; }
    bool is(const char* flag) {
        const std::string& a = args_[i_];
        const std::size_t n = std::strlen(flag);
        if (a == flag) return true;
        if (a.size() > n && a.compare(0, n, flag) == 0 && a[n] == '=') {
            inline_value_ = a.substr(n + 1);
            has_inline_ = true;
            return true;
        }
        return false;
    }
    std::string value() {
        if (has_inline_) {
            has_inline_ = false;
            return inline_value_;
        }
        const std::string flag = args_[i_];
        if (i_ + 1 >= args_.size()) throw UsageError(flag + " needs a value");
        return args_[++i_];
    }

    // The current argument is an operand: it fills the first of `slots` still empty. "-" is an
    // operand (standard input); any other argument that starts with '-' is an unknown option.
    void operand(std::initializer_list<std::string*> slots) const {
        const std::string& a = current();
        if (a.size() > 1 && a[0] == '-') throw UsageError("unknown option " + a);
        for (std::string* s : slots)
            if (s->empty()) {
                *s = a;
                return;
            }
        throw UsageError("unexpected argument " + a);
    }

private:
    std::vector<std::string> args_;
    std::size_t i_ = std::size_t(-1);
    std::string inline_value_;
    bool has_inline_ = false;
};

// Reads one item per line; a trailing '\r' is dropped.
inline bool read_line(std::istream& in, std::string& line) {
    if (!std::getline(in, line)) return false;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return true;
}

// A NumPy .npy (version 1.0) float32 [rows, cols] header; the rows follow as raw little-endian.
inline std::string npy_header(std::uint64_t rows, std::uint64_t cols) {
    std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::to_string(rows) + ", " +
                       std::to_string(cols) + "), }";
    const std::size_t unpadded = 10 + dict.size() + 1;  // magic(6) version(2) len(2) dict '\n'
    dict.append((64 - unpadded % 64) % 64, ' ');
    dict += '\n';
    std::string h = "\x93NUMPY";
    h += char(1);
    h += char(0);
    h += char(dict.size() & 0xff);
    h += char(dict.size() >> 8);
    return h + dict;
}

}  // namespace micse::cli
