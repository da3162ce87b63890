#pragma once
// The weights of a Hugging Face checkpoint directory, whatever file holds them:
// model.safetensors, pytorch_model.bin (the zip archive torch.save writes), or the sharded forms
// with their *.index.json. Each tensor is listed with its name, dtype and shape, and loads on
// demand as contiguous float32 in PyTorch's row-major order, so a converter holds one tensor in
// memory at a time.
#include <zip.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <micse/detail/half.hpp>
#include <micse/detail/mapped_file.hpp>
#include <micse/error.hpp>
#include <nlohmann/json.hpp>

#include "pickle.hpp"

namespace micse::convert {

struct SourceTensor {
    std::string name;
    std::string dtype;  // "float32", "float16", "bfloat16", "float64", "int64", ...
    std::vector<std::int64_t> shape;
    std::string file;   // where it lives, for messages
    std::function<std::vector<float>()> load;  // contiguous, row-major

    std::int64_t numel() const {
        std::int64_t n = 1;
        for (auto d : shape) n *= d;
        return n;
    }
};

namespace detail {

inline std::size_t dtype_size(const std::string& dtype) {
    if (dtype == "float32" || dtype == "int32") return 4;
    if (dtype == "float16" || dtype == "bfloat16" || dtype == "int16") return 2;
    if (dtype == "float64" || dtype == "int64") return 8;
    if (dtype == "int8" || dtype == "uint8" || dtype == "bool") return 1;
    return 0;
}

inline bool is_float_dtype(const std::string& dtype) {
    return dtype == "float32" || dtype == "float16" || dtype == "bfloat16" || dtype == "float64";
}

// Element i of a float buffer of `dtype`, widened to float32 (exact for f16 and bf16).
inline float load_element(const std::uint8_t* p, const std::string& dtype, std::size_t i) {
    if (dtype == "float32") {
        float f;
        std::memcpy(&f, p + 4 * i, 4);
        return f;
    }
    std::uint16_t h;
    if (dtype == "float16") {
        std::memcpy(&h, p + 2 * i, 2);
        return micse::detail::half_to_float(h);
    }
    if (dtype == "bfloat16") {
        std::memcpy(&h, p + 2 * i, 2);
        return micse::detail::bf16_to_float(h);
    }
    double d;  // float64
    std::memcpy(&d, p + 8 * i, 8);
    return float(d);
}

inline nlohmann::json read_json_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(path + ": cannot open");
    try {
        return nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
        throw Error(path + ": not valid JSON: " + e.what());
    }
}

// ---- safetensors: u64 header length, JSON header, raw little-endian tensor data ---------------

inline const std::map<std::string, std::string>& safetensors_dtypes() {
    static const std::map<std::string, std::string> m = {
        {"F32", "float32"}, {"F16", "float16"}, {"BF16", "bfloat16"}, {"F64", "float64"},
        {"I64", "int64"},   {"I32", "int32"},   {"I16", "int16"},     {"I8", "int8"},
        {"U8", "uint8"},    {"BOOL", "bool"},
    };
    return m;
}

// A whole number from a safetensors header. nlohmann's get<integer>() casts a float such as 1e32
// straight to the integer type, which is undefined behaviour, so the JSON type is checked first.
inline std::uint64_t header_count(const nlohmann::json& v, const std::string& where) {
    if (!v.is_number_unsigned()) throw Error(where + " must be a whole number >= 0, not " + v.dump());
    return v.get<std::uint64_t>();
}

inline void read_safetensors(const std::string& path, std::vector<SourceTensor>& out) {
    auto map = std::make_shared<micse::detail::MappedFile>(path);
    if (map->size() < 8) throw Error(path + ": truncated safetensors file (no header length)");
    std::uint64_t header_len;
    std::memcpy(&header_len, map->data(), 8);
    if (header_len > map->size() - 8)
        throw Error(path + ": byte 0: header length " + std::to_string(header_len) + " is past the end of the file");
    nlohmann::json header;
    try {
        header = nlohmann::json::parse(map->data() + 8, map->data() + 8 + header_len);
    } catch (const nlohmann::json::exception& e) {
        throw Error(path + ": the safetensors header is not valid JSON: " + e.what());
    }
    if (!header.is_object()) throw Error(path + ": the safetensors header is not a JSON object");
    const std::uint64_t data_start = 8 + header_len;
    const std::uint64_t data_size = map->size() - data_start;
    for (auto it = header.begin(); it != header.end(); ++it) {
        if (it.key() == "__metadata__") continue;
        const std::string& name = it.key();
        const auto& e = it.value();
        const std::string tensor = path + ": tensor '" + name + "'";  // every message's start
        try {
            const std::string st_dtype = e.at("dtype").get<std::string>();
            const auto dt = safetensors_dtypes().find(st_dtype);
            if (dt == safetensors_dtypes().end())
                throw Error(tensor + " has dtype " + st_dtype + ", which micse does not read");
            SourceTensor t;
            t.name = name;
            t.dtype = dt->second;
            t.file = path;
            std::uint64_t numel = 1;
            const auto& shape = e.at("shape");
            if (!shape.is_array()) throw Error(tensor + ": \"shape\" must be an array");
            for (const auto& d : shape) {
                const std::uint64_t v = header_count(d, tensor + ": a dimension");
                if (v > 0 && numel > (std::uint64_t{1} << 40) / v)
                    throw Error(tensor + " has an impossible shape");
                t.shape.push_back(std::int64_t(v));
                numel *= v;
            }
            const auto& off = e.at("data_offsets");
            if (!off.is_array() || off.size() != 2) throw Error(tensor + ": \"data_offsets\" must be [begin, end]");
            const std::uint64_t begin = header_count(off[0], tensor + ": a data offset");
            const std::uint64_t end = header_count(off[1], tensor + ": a data offset");
            if (begin > end || end > data_size)
                throw Error(tensor + " data offsets [" + std::to_string(begin) + ", " +
                            std::to_string(end) + ") are outside the " + std::to_string(data_size) + "-byte data section");
            if (end - begin != numel * dtype_size(t.dtype))
                throw Error(tensor + " has " + std::to_string(end - begin) + " bytes for " +
                            std::to_string(numel) + " values of " + t.dtype);
            const std::uint8_t* data = map->data() + data_start + begin;
            const std::string dtype = t.dtype;
            t.load = [map, data, numel, dtype, tensor]() {
                if (!is_float_dtype(dtype)) throw Error(tensor + " is " + dtype + ", not a float tensor");
                std::vector<float> v(numel);
                for (std::uint64_t i = 0; i < numel; ++i) v[i] = load_element(data, dtype, i);
                return v;
            };
            out.push_back(std::move(t));
        } catch (const nlohmann::json::exception& ex) {
            throw Error(tensor + " has a malformed header entry: " + ex.what());
        }
    }
}

// ---- torch.save's zip archive: <prefix>/data.pkl and one entry per storage, <prefix>/data/<key>

class ZipArchive {
public:
    explicit ZipArchive(const std::string& path) : path_(path) {
        std::error_code ec;
        file_size_ = std::filesystem::file_size(path, ec);
        if (ec) throw Error(path + ": cannot open: " + ec.message());
        int err = 0;
        zip_ = zip_open(path.c_str(), ZIP_RDONLY, &err);
        if (!zip_) {
            zip_error_t ze;
            zip_error_init_with_code(&ze, err);
            const std::string msg = zip_error_strerror(&ze);
            zip_error_fini(&ze);
            // A zip's directory is at its end: a cut-short archive still starts like one.
            char head[4] = {};
            std::ifstream(path, std::ios::binary).read(head, 4);
            if (std::memcmp(head, "PK\3\4", 4) == 0)
                throw Error(path + ": a damaged or truncated zip archive (" + msg + ")");
            throw Error(path + ": not a zip archive as torch.save writes (" + msg +
                        "); checkpoints from before PyTorch 1.6 must be re-saved");
        }
    }
    ~ZipArchive() {
        if (zip_) zip_discard(zip_);
    }
    ZipArchive(const ZipArchive&) = delete;
    ZipArchive& operator=(const ZipArchive&) = delete;

    std::vector<std::string> names() const {
        std::vector<std::string> v;
        const zip_int64_t n = zip_get_num_entries(zip_, 0);
        for (zip_int64_t i = 0; i < n; ++i)
            if (const char* name = zip_get_name(zip_, zip_uint64_t(i), 0)) v.emplace_back(name);
        return v;
    }

    // The whole entry; `expected` bytes at least when given (checked before reading).
    std::vector<std::uint8_t> read(const std::string& name, std::uint64_t max_size) const {
        const zip_int64_t index = zip_name_locate(zip_, name.c_str(), 0);
        if (index < 0) throw Error(path_ + ": archive entry '" + name + "' is missing");
        zip_stat_t st;
        zip_stat_init(&st);
        if (zip_stat_index(zip_, zip_uint64_t(index), 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE))
            throw Error(path_ + ": cannot read the size of archive entry '" + name + "'");
        if (st.size > max_size)
            throw Error(path_ + ": archive entry '" + name + "' is " + std::to_string(st.size) +
                        " bytes, more than the " + std::to_string(max_size) + " expected");
        // The size is the archive's claim; before allocating it, check that the file's bytes can
        // hold it: torch.save stores entries uncompressed, and deflate expands at most ~1032:1.
        if (!(st.valid & ZIP_STAT_COMP_SIZE) || !(st.valid & ZIP_STAT_COMP_METHOD) || st.comp_size > file_size_ ||
            (st.comp_method == ZIP_CM_STORE && st.size != st.comp_size) || st.size > st.comp_size * 1032 + 1024)
            throw Error(path_ + ": archive entry '" + name + "' claims " + std::to_string(st.size) +
                        " bytes, more than its " + std::to_string(st.comp_size) + " bytes in the file can hold");
        zip_file_t* f = zip_fopen_index(zip_, zip_uint64_t(index), 0);
        if (!f) throw Error(path_ + ": cannot open archive entry '" + name + "': " + zip_strerror(zip_));
        std::vector<std::uint8_t> bytes(st.size);
        const zip_int64_t got = bytes.empty() ? 0 : zip_fread(f, bytes.data(), bytes.size());
        // libzip compares the entry's CRC-32 with the archive's only when a read reaches the end
        // of the entry: one more read does, so a damaged byte in a tensor is an error, not a
        // silently different weight.
        std::uint8_t past_end = 0;
        const zip_int64_t more = got < 0 ? 0 : zip_fread(f, &past_end, 1);
        const std::string why = more < 0 ? zip_error_strerror(zip_file_get_error(f)) : "";
        zip_fclose(f);
        if (got < 0 || std::uint64_t(got) != st.size)
            throw Error(path_ + ": archive entry '" + name + "' is damaged (read " + std::to_string(got) + " of " +
                        std::to_string(st.size) + " bytes)");
        if (more != 0)
            throw Error(path_ + ": archive entry '" + name + "' is damaged (" +
                        (more < 0 ? why : std::string("longer than its recorded size")) + ")");
        return bytes;
    }

private:
    std::string path_;
    std::uint64_t file_size_ = 0;
    zip_t* zip_ = nullptr;
};

inline void read_torch_zip(const std::string& path, std::vector<SourceTensor>& out) {
    auto zip = std::make_shared<ZipArchive>(path);
    std::string prefix;
    for (const auto& n : zip->names()) {
        const auto slash = n.find('/');
        if (slash != std::string::npos && n.substr(slash) == "/data.pkl") {
            prefix = n.substr(0, slash);
            break;
        }
    }
    if (prefix.empty()) throw Error(path + ": no <name>/data.pkl entry: not a torch.save archive");
    for (const auto& n : zip->names())
        if (n == prefix + "/byteorder") {
            const auto b = zip->read(n, 16);
            if (std::string(b.begin(), b.end()) != "little")
                throw Error(path + ": the archive was written on a big-endian machine, which micse does not read");
        }
    const auto pkl = zip->read(prefix + "/data.pkl", std::uint64_t{1} << 30);
    pickle::Reader reader(pkl.data(), pkl.size(), path + ":" + prefix + "/data.pkl");
    const pickle::Ref root = reader.run();
    if (root->kind != pickle::Object::Kind::Dict)
        throw Error(path + ": the pickle holds a " + pickle::kind_name(root->kind) + ", not a state dict");

    for (const auto& [key, value] : root->entries) {
        if (key->kind != pickle::Object::Kind::String) throw Error(path + ": a state dict key is not a string");
        const std::string name = key->s;
        if (value->kind != pickle::Object::Kind::Tensor)
            throw Error(path + ": state dict entry '" + name + "' is a " + pickle::kind_name(value->kind) +
                        ", not a tensor");
        const pickle::TensorRef tr = value->tensor;
        SourceTensor t;
        t.name = name;
        t.dtype = tr.storage.dtype;
        t.shape = tr.shape;
        t.file = path;
        // The furthest element the view touches must lie inside its storage.
        if (tr.storage.numel < 0 || tr.storage.numel > (std::int64_t{1} << 40))
            throw Error(path + ": storage '" + tr.storage.key + "' of tensor '" + name + "' has an impossible size");
        if (tr.offset < 0 || tr.offset > (std::int64_t{1} << 61))
            throw Error(path + ": tensor '" + name + "' has an impossible storage offset");
        std::int64_t last = tr.offset;
        bool empty = false;
        for (std::size_t d = 0; d < tr.shape.size(); ++d) {
            if (tr.shape[d] < 0 || tr.stride[d] < 0 || tr.shape[d] > (std::int64_t{1} << 40) ||
                tr.stride[d] > (std::int64_t{1} << 40))
                throw Error(path + ": tensor '" + name + "' has an impossible size or stride");
            if (tr.shape[d] == 0) empty = true;
            else if (tr.stride[d] != 0 && tr.shape[d] - 1 > (std::int64_t{1} << 61) / tr.stride[d])
                throw Error(path + ": tensor '" + name + "' has an impossible size or stride");
            else if ((last += (tr.shape[d] - 1) * tr.stride[d]) > (std::int64_t{1} << 61))
                throw Error(path + ": tensor '" + name + "' has an impossible size or stride");
        }
        if (tr.offset < 0 || (!empty && last >= tr.storage.numel))
            throw Error(path + ": tensor '" + name + "' reads past the end of its storage '" + tr.storage.key + "'");
        const std::string entry = prefix + "/data/" + tr.storage.key;
        t.load = [zip, tr, entry, name, path]() {
            const std::string& dtype = tr.storage.dtype;
            if (!is_float_dtype(dtype)) throw Error(path + ": tensor '" + name + "' is " + dtype + ", not a float tensor");
            const std::uint64_t expected = std::uint64_t(tr.storage.numel) * dtype_size(dtype);
            const auto bytes = zip->read(entry, expected);
            if (bytes.size() != expected)
                throw Error(path + ": storage '" + entry + "' has " + std::to_string(bytes.size()) + " bytes, expected " +
                            std::to_string(expected));
            std::int64_t numel = 1;
            for (auto d : tr.shape) numel *= d;
            std::vector<float> v(std::size_t(std::max<std::int64_t>(numel, 0)));
            // Walk the view in row-major order through its strides.
            std::vector<std::int64_t> idx(tr.shape.size(), 0);
            for (std::int64_t i = 0; i < numel; ++i) {
                std::int64_t off = tr.offset;
                for (std::size_t d = 0; d < idx.size(); ++d) off += idx[d] * tr.stride[d];
                v[std::size_t(i)] = load_element(bytes.data(), dtype, std::size_t(off));
                for (std::size_t d = idx.size(); d-- > 0;) {
                    if (++idx[d] < tr.shape[d]) break;
                    idx[d] = 0;
                }
            }
            return v;
        };
        out.push_back(std::move(t));
    }
}

}  // namespace detail

// Every tensor of the checkpoint in `dir`, in file order. Prefers safetensors, as transformers
// does; a sharded checkpoint is read through its index.
inline std::vector<SourceTensor> read_checkpoint(const std::string& dir) {
    namespace fs = std::filesystem;
    const fs::path d(dir);
    std::vector<SourceTensor> out;
    auto sharded = [&](const fs::path& index, void (*reader)(const std::string&, std::vector<SourceTensor>&)) {
        const auto j = detail::read_json_file(index.string());
        if (!j.contains("weight_map") || !j["weight_map"].is_object())
            throw Error(index.string() + ": no \"weight_map\" object");
        std::set<std::string> files;
        std::map<std::string, std::string> expected;
        for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
            if (!it.value().is_string()) throw Error(index.string() + ": weight_map values must be file names");
            const std::string f = it.value().get<std::string>();
            if (f.find('/') != std::string::npos || f == "..")
                throw Error(index.string() + ": shard name '" + f + "' is not a file in the checkpoint folder");
            files.insert(f);
            expected[it.key()] = f;
        }
        for (const auto& f : files) reader((d / f).string(), out);
        for (const auto& entry : expected) {
            const std::string& name = entry.first;
            const std::string& file = entry.second;
            const bool found = std::any_of(out.begin(), out.end(), [&](const SourceTensor& t) { return t.name == name; });
            if (!found) throw Error(index.string() + ": tensor '" + name + "' is listed in " + file + " but not found there");
        }
    };
    if (fs::exists(d / "model.safetensors")) detail::read_safetensors((d / "model.safetensors").string(), out);
    else if (fs::exists(d / "model.safetensors.index.json")) sharded(d / "model.safetensors.index.json", detail::read_safetensors);
    else if (fs::exists(d / "pytorch_model.bin")) detail::read_torch_zip((d / "pytorch_model.bin").string(), out);
    else if (fs::exists(d / "pytorch_model.bin.index.json")) sharded(d / "pytorch_model.bin.index.json", detail::read_torch_zip);
    else
        throw Error(dir + ": no weights found (model.safetensors, pytorch_model.bin, or a sharded *.index.json)");
    std::set<std::string> seen;
    for (const auto& t : out)
        if (!seen.insert(t.name).second) throw Error(t.file + ": tensor '" + t.name + "' appears twice in the checkpoint");
    return out;
}

}  // namespace micse::convert
