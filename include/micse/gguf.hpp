#pragma once
// GGUF v3 (ggml's model container), read through a memory map and written by streaming.
//
// The reader trusts nothing: every count, length, type and offset is checked against the bytes
// that remain before anything is allocated or touched, and every problem is a micse::Error that
// names the file and the byte offset. The writer lays tensors out at the file's alignment and
// writes atomically (a temporary file renamed at the end), so a failure leaves nothing behind.
//
// Layout (little-endian): magic "GGUF", u32 version, u64 tensor_count, u64 kv_count, the
// key/value pairs, the tensor infos, zero padding to the alignment, then the data section where
// each tensor starts at data_start + its offset. ne[0] is the innermost (contiguous) dimension.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "detail/mapped_file.hpp"
#include "error.hpp"

namespace micse::gguf {

inline constexpr std::uint32_t kMagic = 0x46554747u;  // "GGUF" read as a little-endian u32
inline constexpr std::uint32_t kVersion = 3;
inline constexpr std::uint32_t kDefaultAlignment = 32;
inline constexpr std::uint32_t kMaxDims = 4;

// ggml tensor type ids: fixed by the file format, never renumbered.
enum class TensorType : std::uint32_t { F32 = 0, F16 = 1, Q8_0 = 8, BF16 = 30 };
static_assert(static_cast<std::uint32_t>(TensorType::F32) == 0);
static_assert(static_cast<std::uint32_t>(TensorType::F16) == 1);
static_assert(static_cast<std::uint32_t>(TensorType::Q8_0) == 8);
static_assert(static_cast<std::uint32_t>(TensorType::BF16) == 30);

// Q8_0 block: an f16 scale d, then 32 int8 quants; value = d * q.
inline constexpr std::uint64_t kQ8BlockValues = 32;
inline constexpr std::uint64_t kQ8BlockBytes = 2 + 32;
static_assert(kQ8BlockBytes == 34);

// Metadata value type ids, fixed by the file format.
enum class ValueType : std::uint32_t {
    U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, Bool = 7,
    String = 8, Array = 9, U64 = 10, I64 = 11, F64 = 12,
};
static_assert(static_cast<std::uint32_t>(ValueType::String) == 8);
static_assert(static_cast<std::uint32_t>(ValueType::F64) == 12);

inline const char* type_name(TensorType t) {
    switch (t) {
        case TensorType::F32: return "F32";
        case TensorType::F16: return "F16";
        case TensorType::Q8_0: return "Q8_0";
        case TensorType::BF16: return "BF16";
    }
    return "unknown";
}

inline const char* value_type_name(ValueType t) {
    static const char* names[] = {"u8", "i8", "u16", "i16", "u32", "i32", "f32",
                                  "bool", "string", "array", "u64", "i64", "f64"};
    const auto i = static_cast<std::uint32_t>(t);
    return i < 13 ? names[i] : "unknown";
}

// Bytes that `count` values of type t occupy; 0 when t is not a type this library knows.
inline std::uint64_t tensor_bytes(TensorType t, std::uint64_t count) {
    switch (t) {
        case TensorType::F32: return count * 4;
        case TensorType::F16: return count * 2;
        case TensorType::BF16: return count * 2;
        case TensorType::Q8_0: return count / kQ8BlockValues * kQ8BlockBytes;
    }
    return 0;
}

inline bool is_known_tensor_type(std::uint32_t id) {
    return id == 0 || id == 1 || id == 8 || id == 30;
}

// One metadata value. Arrays hold their items as Values too (GGUF allows arrays of arrays).
struct Value {
    ValueType type = ValueType::U8;
    std::variant<std::uint64_t, std::int64_t, double, bool, std::string, std::vector<Value>> data;

    static Value u32(std::uint32_t v) { return {ValueType::U32, std::uint64_t{v}}; }
    static Value i32(std::int32_t v) { return {ValueType::I32, std::int64_t{v}}; }
    static Value f32(float v) { return {ValueType::F32, double{v}}; }
    static Value boolean(bool v) { return {ValueType::Bool, v}; }
    static Value string(std::string v) { return {ValueType::String, std::move(v)}; }
    static Value array(std::vector<Value> items) { return {ValueType::Array, std::move(items)}; }

    friend bool operator==(const Value& a, const Value& b) { return a.type == b.type && a.data == b.data; }
    friend bool operator!=(const Value& a, const Value& b) { return !(a == b); }

    bool is_integer() const {
        return std::holds_alternative<std::uint64_t>(data) || std::holds_alternative<std::int64_t>(data);
    }
};

struct TensorInfo {
    std::string name;
    std::vector<std::uint64_t> ne;  // ne[0] innermost
    TensorType type = TensorType::F32;
    std::uint64_t offset = 0;       // from the start of the data section
    std::uint64_t n_elements = 0;
    std::uint64_t n_bytes = 0;
    const std::uint8_t* data = nullptr;  // into the mapping (reader only)
};

namespace detail {

// A bounds-checked little-endian cursor over the mapped bytes.
class Cursor {
public:
    Cursor(const std::uint8_t* data, std::uint64_t size, const std::string& path)
        : data_(data), size_(size), path_(path) {}

    std::uint64_t pos() const { return pos_; }
    std::uint64_t remaining() const { return size_ - pos_; }

    [[noreturn]] void fail(const std::string& what) const { fail_at(pos_, what); }
    [[noreturn]] void fail_at(std::uint64_t at, const std::string& what) const {
        throw Error(path_ + ": byte " + std::to_string(at) + ": " + what);
    }

    void need(std::uint64_t n, const char* what) const {
        if (n > remaining())
            fail(std::string("truncated: ") + what + " needs " + std::to_string(n) + " bytes, " +
                 std::to_string(remaining()) + " remain");
    }

    template <class T>
    T read(const char* what) {
        need(sizeof(T), what);
        T v;
        std::memcpy(&v, data_ + pos_, sizeof v);  // the format and every supported host are little-endian
        pos_ += sizeof v;
        return v;
    }

    std::string read_string(const char* what) {
        const auto len = read<std::uint64_t>(what);
        need(len, what);
        std::string s(reinterpret_cast<const char*>(data_ + pos_), static_cast<std::size_t>(len));
        pos_ += len;
        return s;
    }

private:
    const std::uint8_t* data_;
    std::uint64_t size_;
    std::uint64_t pos_ = 0;
    const std::string& path_;
};

static_assert(sizeof(float) == 4 && sizeof(double) == 8);

// Smallest number of bytes one value of type t can take: the basis of every count check.
inline std::uint64_t min_value_bytes(ValueType t) {
    switch (t) {
        case ValueType::U8: case ValueType::I8: case ValueType::Bool: return 1;
        case ValueType::U16: case ValueType::I16: return 2;
        case ValueType::U32: case ValueType::I32: case ValueType::F32: return 4;
        case ValueType::U64: case ValueType::I64: case ValueType::F64: return 8;
        case ValueType::String: return 8;
        case ValueType::Array: return 12;
    }
    return 1;
}

inline Value read_value(Cursor& c, std::uint32_t raw_type, int depth) {
    if (raw_type > static_cast<std::uint32_t>(ValueType::F64))
        c.fail("unknown metadata value type " + std::to_string(raw_type));
    const auto type = static_cast<ValueType>(raw_type);
    Value v;
    v.type = type;
    switch (type) {
        case ValueType::U8: v.data = std::uint64_t{c.read<std::uint8_t>("u8 value")}; break;
        case ValueType::I8: v.data = std::int64_t{c.read<std::int8_t>("i8 value")}; break;
        case ValueType::U16: v.data = std::uint64_t{c.read<std::uint16_t>("u16 value")}; break;
        case ValueType::I16: v.data = std::int64_t{c.read<std::int16_t>("i16 value")}; break;
        case ValueType::U32: v.data = std::uint64_t{c.read<std::uint32_t>("u32 value")}; break;
        case ValueType::I32: v.data = std::int64_t{c.read<std::int32_t>("i32 value")}; break;
        case ValueType::U64: v.data = c.read<std::uint64_t>("u64 value"); break;
        case ValueType::I64: v.data = c.read<std::int64_t>("i64 value"); break;
        case ValueType::F32: v.data = double{c.read<float>("f32 value")}; break;
        case ValueType::F64: v.data = c.read<double>("f64 value"); break;
        case ValueType::Bool: {
            const auto at = c.pos();
            const auto b = c.read<std::uint8_t>("bool value");
            if (b > 1) c.fail_at(at, "bool value is " + std::to_string(b) + ", not 0 or 1");
            v.data = b == 1;
            break;
        }
        case ValueType::String: v.data = c.read_string("string value"); break;
        case ValueType::Array: {
            if (depth >= 3) c.fail("arrays nested too deeply");
            const auto item_type = c.read<std::uint32_t>("array item type");
            if (item_type > static_cast<std::uint32_t>(ValueType::F64))
                c.fail("unknown array item type " + std::to_string(item_type));
            const auto count = c.read<std::uint64_t>("array length");
            // Checked before reserving, so a hostile count cannot make us allocate.
            if (count > c.remaining() / min_value_bytes(static_cast<ValueType>(item_type)))
                c.fail("array of " + std::to_string(count) + " items does not fit in the " +
                       std::to_string(c.remaining()) + " bytes that remain");
            std::vector<Value> items;
            items.reserve(static_cast<std::size_t>(count));
            for (std::uint64_t i = 0; i < count; ++i) items.push_back(read_value(c, item_type, depth + 1));
            v.data = std::move(items);
            break;
        }
    }
    return v;
}

inline bool is_power_of_two(std::uint64_t x) { return x != 0 && (x & (x - 1)) == 0; }

inline std::uint64_t align_up(std::uint64_t x, std::uint64_t a) { return (x + a - 1) / a * a; }

}  // namespace detail

// A GGUF file, memory-mapped read-only and fully validated on open.
class File {
public:
    explicit File(const std::string& path) : map_(path) { parse(); }

    const std::string& path() const { return map_.path(); }
    std::uint32_t version() const { return version_; }
    std::uint64_t alignment() const { return alignment_; }
    std::uint64_t data_offset() const { return data_start_; }
    std::uint64_t size() const { return map_.size(); }

    // Metadata, in file order.
    const std::vector<std::pair<std::string, Value>>& metadata() const { return kv_; }
    const std::vector<TensorInfo>& tensors() const { return tensors_; }

    bool has(const std::string& key) const { return kv_index_.count(key) != 0; }
    const Value* find(const std::string& key) const {
        const auto it = kv_index_.find(key);
        return it == kv_index_.end() ? nullptr : &kv_[it->second].second;
    }
    const Value& get(const std::string& key) const {
        const Value* v = find(key);
        if (!v) throw Error(path() + ": metadata key '" + key + "' is missing");
        return *v;
    }

    // Typed getters: any integer type is accepted where its value fits, because writers differ
    // (llama.cpp writes u32 where others write i32 or u64).
    std::uint64_t get_uint(const std::string& key) const {
        const Value& v = get(key);
        if (const auto* u = std::get_if<std::uint64_t>(&v.data)) return *u;
        if (const auto* i = std::get_if<std::int64_t>(&v.data); i && *i >= 0) return std::uint64_t(*i);
        throw Error(path() + ": metadata key '" + key + "' should be a non-negative integer, is " +
                    value_type_name(v.type));
    }
    std::uint64_t get_uint(const std::string& key, std::uint64_t fallback) const {
        return has(key) ? get_uint(key) : fallback;
    }
    double get_float(const std::string& key) const {
        const Value& v = get(key);
        if (const auto* d = std::get_if<double>(&v.data)) return *d;
        throw Error(path() + ": metadata key '" + key + "' should be a float, is " + value_type_name(v.type));
    }
    bool get_bool(const std::string& key) const {
        const Value& v = get(key);
        if (const auto* b = std::get_if<bool>(&v.data)) return *b;
        throw Error(path() + ": metadata key '" + key + "' should be a bool, is " + value_type_name(v.type));
    }
    bool get_bool(const std::string& key, bool fallback) const { return has(key) ? get_bool(key) : fallback; }
    const std::string& get_string(const std::string& key) const {
        const Value& v = get(key);
        if (const auto* s = std::get_if<std::string>(&v.data)) return *s;
        throw Error(path() + ": metadata key '" + key + "' should be a string, is " + value_type_name(v.type));
    }
    const std::vector<Value>& get_array(const std::string& key) const {
        const Value& v = get(key);
        if (const auto* a = std::get_if<std::vector<Value>>(&v.data)) return *a;
        throw Error(path() + ": metadata key '" + key + "' should be an array, is " + value_type_name(v.type));
    }
    std::vector<std::string> get_string_array(const std::string& key) const {
        std::vector<std::string> out;
        for (const Value& item : get_array(key)) {
            const auto* s = std::get_if<std::string>(&item.data);
            if (!s) throw Error(path() + ": metadata key '" + key + "' should be an array of strings");
            out.push_back(*s);
        }
        return out;
    }
    std::vector<std::int64_t> get_int_array(const std::string& key) const {
        std::vector<std::int64_t> out;
        for (const Value& item : get_array(key)) {
            if (const auto* i = std::get_if<std::int64_t>(&item.data)) out.push_back(*i);
            else if (const auto* u = std::get_if<std::uint64_t>(&item.data); u && *u <= INT64_MAX)
                out.push_back(std::int64_t(*u));
            else throw Error(path() + ": metadata key '" + key + "' should be an array of integers");
        }
        return out;
    }

    // Drops the tensor's pages from resident memory once a copy of it (for example a packed
    // one) has been made; reading it again reloads it from the file.
    void release(const TensorInfo& t) const { map_.release(t.data, std::size_t(t.n_bytes)); }

    const TensorInfo* find_tensor(const std::string& name) const {
        const auto it = tensor_index_.find(name);
        return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
    }
    const TensorInfo& tensor(const std::string& name) const {
        const TensorInfo* t = find_tensor(name);
        if (!t) throw Error(path() + ": tensor '" + name + "' is missing");
        return *t;
    }

private:
    void parse() {
        const std::string& p = map_.path();
        detail::Cursor c(map_.data(), map_.size(), p);
        const auto magic = c.read<std::uint32_t>("magic");
        if (magic != kMagic) c.fail_at(0, "not a GGUF file (the magic bytes are not \"GGUF\")");
        version_ = c.read<std::uint32_t>("version");
        if (version_ != kVersion)
            c.fail_at(4, "GGUF version " + std::to_string(version_) + " is not supported (only 3)");
        const auto tensor_count = c.read<std::uint64_t>("tensor count");
        const auto kv_count = c.read<std::uint64_t>("metadata count");
        // Each pair takes at least a key length, a type and a one-byte value; each tensor info at
        // least a name length, n_dims, one ne, a type and an offset.
        if (kv_count > c.remaining() / 13)
            c.fail_at(16, "metadata count " + std::to_string(kv_count) + " cannot fit in the file");
        if (tensor_count > c.remaining() / 32)
            c.fail_at(8, "tensor count " + std::to_string(tensor_count) + " cannot fit in the file");

        kv_.reserve(static_cast<std::size_t>(kv_count));
        for (std::uint64_t i = 0; i < kv_count; ++i) {
            const auto at = c.pos();
            std::string key = c.read_string("metadata key");
            const auto type = c.read<std::uint32_t>("metadata value type");
            Value v = detail::read_value(c, type, 0);
            if (!kv_index_.emplace(key, kv_.size()).second) c.fail_at(at, "duplicate metadata key '" + key + "'");
            kv_.emplace_back(std::move(key), std::move(v));
        }

        alignment_ = kDefaultAlignment;
        if (const Value* a = find("general.alignment")) {
            const auto* u = std::get_if<std::uint64_t>(&a->data);
            if (!u || a->type != ValueType::U32 || !detail::is_power_of_two(*u))
                throw Error(p + ": general.alignment must be a u32 power of two");
            alignment_ = *u;
        }

        tensors_.reserve(static_cast<std::size_t>(tensor_count));
        for (std::uint64_t i = 0; i < tensor_count; ++i) {
            const auto at = c.pos();
            TensorInfo t;
            t.name = c.read_string("tensor name");
            const auto n_dims = c.read<std::uint32_t>("tensor n_dims");
            if (n_dims == 0 || n_dims > kMaxDims)
                c.fail_at(at, "tensor '" + t.name + "' has " + std::to_string(n_dims) + " dimensions (1 to 4 allowed)");
            t.n_elements = 1;
            for (std::uint32_t d = 0; d < n_dims; ++d) {
                const auto ne = c.read<std::uint64_t>("tensor dimension");
                if (ne == 0 || ne > (std::uint64_t{1} << 40) || t.n_elements > (std::uint64_t{1} << 40) / ne)
                    c.fail_at(at, "tensor '" + t.name + "' has an impossible dimension " + std::to_string(ne));
                t.ne.push_back(ne);
                t.n_elements *= ne;
            }
            const auto type = c.read<std::uint32_t>("tensor type");
            if (!is_known_tensor_type(type))
                c.fail_at(at, "tensor '" + t.name + "' has ggml type " + std::to_string(type) +
                                  ", which micse does not support (F32, F16, BF16, Q8_0)");
            t.type = static_cast<TensorType>(type);
            if (t.type == TensorType::Q8_0 && t.ne[0] % kQ8BlockValues != 0)
                c.fail_at(at, "Q8_0 tensor '" + t.name + "' has a row length that is not a multiple of 32");
            t.n_bytes = tensor_bytes(t.type, t.n_elements);
            t.offset = c.read<std::uint64_t>("tensor offset");
            if (t.offset % alignment_ != 0)
                c.fail_at(at, "tensor '" + t.name + "' offset " + std::to_string(t.offset) +
                                  " is not a multiple of the alignment " + std::to_string(alignment_));
            if (!tensor_index_.emplace(t.name, tensors_.size()).second)
                c.fail_at(at, "duplicate tensor name '" + t.name + "'");
            tensors_.push_back(std::move(t));
        }

        data_start_ = detail::align_up(c.pos(), alignment_);
        if (data_start_ > map_.size() && tensor_count > 0)
            throw Error(p + ": truncated: the data section would start at byte " + std::to_string(data_start_) +
                        ", past the end of the file (" + std::to_string(map_.size()) + " bytes)");
        for (auto& t : tensors_) {
            const std::uint64_t available = map_.size() - std::min<std::uint64_t>(data_start_, map_.size());
            if (t.offset > available || t.n_bytes > available - t.offset)
                throw Error(p + ": truncated: tensor '" + t.name + "' needs bytes " +
                            std::to_string(data_start_ + t.offset) + " to " +
                            std::to_string(data_start_ + t.offset + t.n_bytes) + ", the file has " +
                            std::to_string(map_.size()));
            t.data = map_.data() + data_start_ + t.offset;
        }
    }

    micse::detail::MappedFile map_;
    std::uint32_t version_ = 0;
    std::uint64_t alignment_ = kDefaultAlignment;
    std::uint64_t data_start_ = 0;
    std::vector<std::pair<std::string, Value>> kv_;
    std::unordered_map<std::string, std::size_t> kv_index_;
    std::vector<TensorInfo> tensors_;
    std::unordered_map<std::string, std::size_t> tensor_index_;
};

// Writes a GGUF file. Add metadata and tensors (each with a callback that produces its bytes
// when the data section is written, so a converter holds one tensor in memory at a time), then
// write(). The file appears under its name only when every byte has been written.
class Writer {
public:
    using Producer = std::function<void(std::vector<std::uint8_t>& out)>;

    explicit Writer(std::uint32_t alignment = kDefaultAlignment) : alignment_(alignment) {
        if (!detail::is_power_of_two(alignment)) throw Error("GGUF writer: alignment must be a power of two");
        if (alignment != kDefaultAlignment) set("general.alignment", Value::u32(alignment));
    }

    void set(const std::string& key, Value v) {
        for (auto& kv : kv_)
            if (kv.first == key) {
                kv.second = std::move(v);
                return;
            }
        kv_.emplace_back(key, std::move(v));
    }

    void add_tensor(const std::string& name, std::vector<std::uint64_t> ne, TensorType type, Producer produce) {
        for (const auto& t : tensors_)
            if (t.info.name == name) throw Error("GGUF writer: tensor '" + name + "' added twice");
        if (ne.empty() || ne.size() > kMaxDims) throw Error("GGUF writer: tensor '" + name + "' needs 1 to 4 dimensions");
        PendingTensor t;
        t.info.name = name;
        t.info.ne = std::move(ne);
        t.info.type = type;
        t.info.n_elements = 1;
        for (auto d : t.info.ne) t.info.n_elements *= d;
        t.info.n_bytes = tensor_bytes(type, t.info.n_elements);
        t.info.offset = next_offset_;
        next_offset_ = detail::align_up(next_offset_ + t.info.n_bytes, alignment_);
        t.produce = std::move(produce);
        tensors_.push_back(std::move(t));
    }

    // Writes everything to `path` through a temporary file beside it; on any failure the
    // temporary file is removed and a micse::Error says what went wrong.
    void write(const std::string& path) const {
        const std::string tmp = path + ".tmp-micse";
        try {
            write_to(tmp);
            std::error_code ec;
            std::filesystem::rename(tmp, path, ec);
            if (ec) throw Error(path + ": cannot rename the finished temporary file into place: " + ec.message());
        } catch (...) {
            std::error_code ignored;
            std::filesystem::remove(tmp, ignored);
            throw;
        }
    }

private:
    struct PendingTensor {
        TensorInfo info;
        Producer produce;
    };

    static void put_bytes(std::vector<std::uint8_t>& b, const void* p, std::size_t n) {
        const auto* c = static_cast<const std::uint8_t*>(p);
        b.insert(b.end(), c, c + n);
    }
    template <class T>
    static void put(std::vector<std::uint8_t>& b, T v) { put_bytes(b, &v, sizeof v); }
    static void put_string(std::vector<std::uint8_t>& b, const std::string& s) {
        put<std::uint64_t>(b, s.size());
        put_bytes(b, s.data(), s.size());
    }
    static void put_value(std::vector<std::uint8_t>& b, const Value& v) {
        switch (v.type) {
            case ValueType::U8: put<std::uint8_t>(b, std::uint8_t(std::get<std::uint64_t>(v.data))); break;
            case ValueType::U16: put<std::uint16_t>(b, std::uint16_t(std::get<std::uint64_t>(v.data))); break;
            case ValueType::U32: put<std::uint32_t>(b, std::uint32_t(std::get<std::uint64_t>(v.data))); break;
            case ValueType::U64: put<std::uint64_t>(b, std::get<std::uint64_t>(v.data)); break;
            case ValueType::I8: put<std::int8_t>(b, std::int8_t(std::get<std::int64_t>(v.data))); break;
            case ValueType::I16: put<std::int16_t>(b, std::int16_t(std::get<std::int64_t>(v.data))); break;
            case ValueType::I32: put<std::int32_t>(b, std::int32_t(std::get<std::int64_t>(v.data))); break;
            case ValueType::I64: put<std::int64_t>(b, std::get<std::int64_t>(v.data)); break;
            case ValueType::F32: put<float>(b, float(std::get<double>(v.data))); break;
            case ValueType::F64: put<double>(b, std::get<double>(v.data)); break;
            case ValueType::Bool: put<std::uint8_t>(b, std::get<bool>(v.data) ? 1 : 0); break;
            case ValueType::String: put_string(b, std::get<std::string>(v.data)); break;
            case ValueType::Array: {
                const auto& items = std::get<std::vector<Value>>(v.data);
                const ValueType item_type = items.empty() ? ValueType::U8 : items.front().type;
                for (const auto& it : items)
                    if (it.type != item_type) throw Error("GGUF writer: an array mixes value types");
                put<std::uint32_t>(b, static_cast<std::uint32_t>(item_type));
                put<std::uint64_t>(b, items.size());
                for (const auto& it : items) put_value(b, it);
                break;
            }
        }
    }

    void write_to(const std::string& path) const {
        std::vector<std::uint8_t> header;
        put<std::uint32_t>(header, kMagic);
        put<std::uint32_t>(header, kVersion);
        put<std::uint64_t>(header, tensors_.size());
        put<std::uint64_t>(header, kv_.size());
        for (const auto& [key, value] : kv_) {
            put_string(header, key);
            put<std::uint32_t>(header, static_cast<std::uint32_t>(value.type));
            put_value(header, value);
        }
        for (const auto& t : tensors_) {
            put_string(header, t.info.name);
            put<std::uint32_t>(header, static_cast<std::uint32_t>(t.info.ne.size()));
            for (auto d : t.info.ne) put<std::uint64_t>(header, d);
            put<std::uint32_t>(header, static_cast<std::uint32_t>(t.info.type));
            put<std::uint64_t>(header, t.info.offset);
        }
        header.resize(detail::align_up(header.size(), alignment_), 0);

        std::FILE* f = std::fopen(path.c_str(), "wb");
        if (!f) throw Error(path + ": cannot create: " + std::strerror(errno));
        std::unique_ptr<std::FILE, int (*)(std::FILE*)> guard(f, &std::fclose);
        auto emit = [&](const void* p, std::size_t n) {
            if (n && std::fwrite(p, 1, n, f) != n)
                throw Error(path + ": write failed: " + std::strerror(errno));
        };
        emit(header.data(), header.size());
        std::uint64_t written = 0;
        std::vector<std::uint8_t> bytes;
        static const std::uint8_t zeros[64] = {};
        for (const auto& t : tensors_) {
            while (written < t.info.offset) {
                const auto n = std::min<std::uint64_t>(sizeof zeros, t.info.offset - written);
                emit(zeros, n);
                written += n;
            }
            bytes.clear();
            t.produce(bytes);
            if (bytes.size() != t.info.n_bytes)
                throw Error("GGUF writer: tensor '" + t.info.name + "' produced " + std::to_string(bytes.size()) +
                            " bytes, expected " + std::to_string(t.info.n_bytes));
            emit(bytes.data(), bytes.size());
            written += bytes.size();
        }
        if (std::fflush(f) != 0) throw Error(path + ": write failed: " + std::strerror(errno));
        if (::fsync(::fileno(f)) != 0) throw Error(path + ": cannot sync to disk: " + std::strerror(errno));
        guard.release();
        if (std::fclose(f) != 0) throw Error(path + ": close failed: " + std::strerror(errno));
    }

    std::uint32_t alignment_;
    std::vector<std::pair<std::string, Value>> kv_;
    std::vector<PendingTensor> tensors_;
    std::uint64_t next_offset_ = 0;
};

}  // namespace micse::gguf
