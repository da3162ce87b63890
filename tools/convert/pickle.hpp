#pragma once
// A reader for the subset of Python's pickle format that torch.save uses for a state dict
// (protocol 2, and the protocol 4 framing opcodes). A pickle is a program for a stack machine;
// this one runs only the opcodes that build plain data, and allows only the globals a PyTorch
// state dict needs. Everything else (os.system, builtins.eval, any other class) is refused by
// name before it could be "called": a checkpoint is data, never code.
//
// Opcode values and semantics follow Python's Lib/pickletools.py documentation.
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <micse/error.hpp>

namespace micse::convert::pickle {

struct Object;
using Ref = std::shared_ptr<Object>;

// A storage named by a persistent id: ('storage', torch.XStorage, key, location, numel).
struct StorageRef {
    std::string dtype;  // "float32", "float16", "bfloat16", "float64", "int64", ...
    std::string key;    // the zip entry is <prefix>/data/<key>
    std::int64_t numel = 0;
};

// torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, ...)
struct TensorRef {
    StorageRef storage;
    std::int64_t offset = 0;
    std::vector<std::int64_t> shape, stride;
};

struct Object {
    enum class Kind { None, Bool, Int, Float, String, Bytes, Tuple, List, Dict, Global, Storage, Tensor };
    Kind kind = Kind::None;
    std::int64_t i = 0;
    double f = 0;
    std::string s;                            // String, Bytes, Global ("module.name")
    std::vector<Ref> items;                   // Tuple, List
    std::vector<std::pair<Ref, Ref>> entries; // Dict, in insertion order (OrderedDict)
    StorageRef storage;
    TensorRef tensor;
    // Set once the object is an item of another. Lists and dicts take items only before that:
    // every pickle Python writes for non-recursive data does so (a container is completed before
    // its parent takes it), and it makes a reference cycle impossible, so a hostile pickle
    // cannot build one (a shared_ptr cycle would never be freed).
    bool sealed = false;
};

inline const char* kind_name(Object::Kind k) {
    static const char* names[] = {"None", "bool", "int", "float", "str", "bytes", "tuple",
                                  "list", "dict", "global", "storage", "tensor"};
    return names[static_cast<int>(k)];
}

// The globals a state dict may name. Storage classes map to their element type.
inline const std::unordered_map<std::string, std::string>& storage_globals() {
    static const std::unordered_map<std::string, std::string> m = {
        {"torch.FloatStorage", "float32"}, {"torch.HalfStorage", "float16"},
        {"torch.BFloat16Storage", "bfloat16"}, {"torch.DoubleStorage", "float64"},
        {"torch.LongStorage", "int64"},    {"torch.IntStorage", "int32"},
        {"torch.ShortStorage", "int16"},   {"torch.CharStorage", "int8"},
        {"torch.ByteStorage", "uint8"},    {"torch.BoolStorage", "bool"},
    };
    return m;
}

inline bool is_allowed_global(const std::string& name) {
    return name == "collections.OrderedDict" || name == "torch._utils._rebuild_tensor_v2" ||
           name == "torch._utils._rebuild_parameter" || storage_globals().count(name) != 0;
}

class Reader {
public:
    // `where` names the pickle in error messages (for example "model.bin:archive/data.pkl").
    Reader(const std::uint8_t* data, std::size_t size, std::string where)
        : p_(data), size_(size), where_(std::move(where)) {}

    Ref run() {
        while (true) {
            const std::size_t at = pos_;
            const std::uint8_t op = u8();
            switch (op) {
                case 0x80: {  // PROTO
                    const auto v = u8();
                    if (v > 5) fail_at(at, "pickle protocol " + std::to_string(v) + " is unknown");
                    break;
                }
                case 0x95: skip(8); break;  // FRAME: a length hint, the opcodes follow inline
                case '.': {                 // STOP
                    if (stack_.size() != 1 || !marks_.empty()) fail_at(at, "STOP with a malformed stack");
                    return stack_.back();
                }
                case '(': marks_.push_back(stack_.size()); break;  // MARK
                case ')': push(make(Object::Kind::Tuple)); break;  // EMPTY_TUPLE
                case '}': push(make(Object::Kind::Dict)); break;   // EMPTY_DICT
                case ']': push(make(Object::Kind::List)); break;   // EMPTY_LIST
                case 'N': push(make(Object::Kind::None)); break;   // NONE
                case 0x88: push(boolean(true)); break;             // NEWTRUE
                case 0x89: push(boolean(false)); break;            // NEWFALSE
                case 'J': push(integer(i32())); break;             // BININT
                case 'K': push(integer(u8())); break;              // BININT1
                case 'M': push(integer(u16())); break;             // BININT2
                case 0x8a: {                                       // LONG1: n-byte two's complement
                    const auto n = u8();
                    if (n > 8) fail_at(at, "an integer of " + std::to_string(n) + " bytes is too large");
                    need(n);
                    std::uint64_t v = 0;
                    for (unsigned b = 0; b < n; ++b) v |= std::uint64_t(p_[pos_ + b]) << (8 * b);
                    if (n > 0 && n < 8 && (p_[pos_ + n - 1] & 0x80)) v |= ~std::uint64_t(0) << (8 * n);
                    pos_ += n;
                    push(integer(static_cast<std::int64_t>(v)));
                    break;
                }
                case 'G': {  // BINFLOAT: big-endian double
                    need(8);
                    std::uint64_t bits = 0;
                    for (int b = 0; b < 8; ++b) bits = (bits << 8) | p_[pos_ + b];
                    pos_ += 8;
                    auto o = make(Object::Kind::Float);
                    std::memcpy(&o->f, &bits, 8);
                    push(o);
                    break;
                }
                case 'X': push(string(u32(), Object::Kind::String)); break;  // BINUNICODE
                case 0x8c: push(string(u8(), Object::Kind::String)); break;  // SHORT_BINUNICODE
                case 'T': push(string(u32(), Object::Kind::String)); break;  // BINSTRING
                case 'U': push(string(u8(), Object::Kind::String)); break;   // SHORT_BINSTRING
                case 'B': push(string(u32(), Object::Kind::Bytes)); break;   // BINBYTES
                case 'C': push(string(u8(), Object::Kind::Bytes)); break;    // SHORT_BINBYTES
                case 'q': memo_[u8()] = top(at); break;                      // BINPUT
                case 'r': memo_[u32()] = top(at); break;                     // LONG_BINPUT
                case 0x94: memo_[std::uint32_t(memo_.size())] = top(at); break;  // MEMOIZE
                case 'h': push(memo(u8(), at)); break;                       // BINGET
                case 'j': push(memo(u32(), at)); break;                      // LONG_BINGET
                case 't': {                                                  // TUPLE
                    auto o = make(Object::Kind::Tuple);
                    o->items = seal(pop_to_mark(at));
                    push(o);
                    break;
                }
                case 0x85: case 0x86: case 0x87: {  // TUPLE1, TUPLE2, TUPLE3
                    const std::size_t n = std::size_t(op - 0x84);
                    if (stack_.size() < n + floor()) fail_at(at, "tuple of " + std::to_string(n) + " on a short stack");
                    auto o = make(Object::Kind::Tuple);
                    o->items = seal({stack_.end() - std::ptrdiff_t(n), stack_.end()});
                    stack_.resize(stack_.size() - n);
                    push(o);
                    break;
                }
                case 'a': {  // APPEND
                    Ref v = pop(at);
                    Ref list = open_container(top(at), Object::Kind::List, at, "APPEND");
                    list->items.push_back(item_of(list, v, at));
                    break;
                }
                case 'e': {  // APPENDS
                    auto items = pop_to_mark(at);
                    Ref list = open_container(top(at), Object::Kind::List, at, "APPENDS");
                    for (const Ref& v : items) list->items.push_back(item_of(list, v, at));
                    break;
                }
                case 's': {  // SETITEM
                    Ref v = pop(at), k = pop(at);
                    Ref dict = open_container(top(at), Object::Kind::Dict, at, "SETITEM");
                    dict->entries.emplace_back(item_of(dict, k, at), item_of(dict, v, at));
                    break;
                }
                case 'u': {  // SETITEMS
                    auto items = pop_to_mark(at);
                    if (items.size() % 2) fail_at(at, "SETITEMS with an odd number of items");
                    Ref dict = open_container(top(at), Object::Kind::Dict, at, "SETITEMS");
                    for (std::size_t k = 0; k < items.size(); k += 2)
                        dict->entries.emplace_back(item_of(dict, items[k], at), item_of(dict, items[k + 1], at));
                    break;
                }
                case 'c': {  // GLOBAL "module\nname\n"
                    const std::string module = line(at), name = line(at);
                    push(global(module + "." + name, at));
                    break;
                }
                case 0x93: {  // STACK_GLOBAL
                    Ref name = pop(at), module = pop(at);
                    if (name->kind != Object::Kind::String || module->kind != Object::Kind::String)
                        fail_at(at, "STACK_GLOBAL needs two strings");
                    push(global(module->s + "." + name->s, at));
                    break;
                }
                case 'Q': {  // BINPERSID
                    push(persistent(pop(at), at));
                    break;
                }
                case 'R': {  // REDUCE
                    Ref args = pop(at), callable = pop(at);
                    push(reduce(callable, args, at));
                    break;
                }
                case 'b': {  // BUILD: sets state on the object below. A state dict's OrderedDict
                             // carries `_metadata` this way; it is not needed and is dropped.
                    Ref state = pop(at);
                    Ref obj = top(at);
                    if (obj->kind != Object::Kind::Dict && obj->kind != Object::Kind::Tensor)
                        fail_at(at, std::string("BUILD on a ") + kind_name(obj->kind) + " is not supported");
                    (void)state;
                    break;
                }
                default: {
                    char hex[8];
                    std::snprintf(hex, sizeof hex, "0x%02x", op);
                    fail_at(at, std::string("pickle opcode ") + hex +
                                    " is outside the subset a PyTorch state dict uses");
                }
            }
        }
    }

private:
    [[noreturn]] void fail_at(std::size_t at, const std::string& what) const {
        throw Error(where_ + ": byte " + std::to_string(at) + ": " + what);
    }
    void need(std::size_t n) const {
        if (n > size_ - pos_) fail_at(pos_, "truncated pickle");
    }
    void skip(std::size_t n) {
        need(n);
        pos_ += n;
    }
    std::uint8_t u8() {
        need(1);
        return p_[pos_++];
    }
    std::uint16_t u16() {
        need(2);
        const std::uint16_t v = std::uint16_t(p_[pos_] | (p_[pos_ + 1] << 8));
        pos_ += 2;
        return v;
    }
    std::uint32_t u32() {
        need(4);
        std::uint32_t v;
        std::memcpy(&v, p_ + pos_, 4);
        pos_ += 4;
        return v;
    }
    std::int32_t i32() { return static_cast<std::int32_t>(u32()); }
    std::string line(std::size_t at) {
        const void* nl = std::memchr(p_ + pos_, '\n', size_ - pos_);
        if (!nl) fail_at(at, "GLOBAL without a newline");
        const auto end = std::size_t(static_cast<const std::uint8_t*>(nl) - p_);
        std::string s(reinterpret_cast<const char*>(p_ + pos_), end - pos_);
        pos_ = end + 1;
        return s;
    }

    static Ref make(Object::Kind k) {
        auto o = std::make_shared<Object>();
        o->kind = k;
        return o;
    }
    static Ref boolean(bool b) {
        auto o = make(Object::Kind::Bool);
        o->i = b;
        return o;
    }
    static Ref integer(std::int64_t v) {
        auto o = make(Object::Kind::Int);
        o->i = v;
        return o;
    }
    Ref string(std::size_t n, Object::Kind k) {
        need(n);
        auto o = make(k);
        o->s.assign(reinterpret_cast<const char*>(p_ + pos_), n);
        pos_ += n;
        return o;
    }

    std::size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
    void push(Ref r) { stack_.push_back(std::move(r)); }
    Ref top(std::size_t at) const {
        if (stack_.size() <= floor()) fail_at(at, "stack underflow");
        return stack_.back();
    }
    Ref pop(std::size_t at) {
        Ref r = top(at);
        stack_.pop_back();
        return r;
    }
    std::vector<Ref> pop_to_mark(std::size_t at) {
        if (marks_.empty()) fail_at(at, "no MARK on the stack");
        const std::size_t m = marks_.back();
        marks_.pop_back();
        std::vector<Ref> items(stack_.begin() + std::ptrdiff_t(m), stack_.end());
        stack_.resize(m);
        return items;
    }
    Ref memo(std::uint32_t k, std::size_t at) const {
        const auto it = memo_.find(k);
        if (it == memo_.end()) fail_at(at, "memo entry " + std::to_string(k) + " was never stored");
        return it->second;
    }
    // The list or dict that APPEND or SETITEM adds to: of the right kind, and not yet an item of
    // anything (see Object::sealed).
    Ref open_container(Ref o, Object::Kind k, std::size_t at, const char* op) const {
        if (o->kind != k) fail_at(at, std::string(op) + " on a " + kind_name(o->kind) + ", expected a " + kind_name(k));
        if (o->sealed) fail_at(at, std::string(op) + " on a " + kind_name(k) + " that is already inside another object");
        return o;
    }
    // `v` becomes an item of `container` (an open list or dict, which cannot hold itself).
    Ref item_of(const Ref& container, Ref v, std::size_t at) const {
        if (v == container) fail_at(at, std::string("a ") + kind_name(v->kind) + " cannot contain itself");
        v->sealed = true;
        return v;
    }
    static std::vector<Ref> seal(std::vector<Ref> items) {
        for (const Ref& v : items) v->sealed = true;
        return items;
    }

    Ref global(const std::string& name, std::size_t at) const {
        if (!is_allowed_global(name))
            fail_at(at, "refusing the global '" + name +
                            "': a PyTorch state dict needs only OrderedDict, tensor rebuilding and storages");
        auto o = make(Object::Kind::Global);
        o->s = name;
        return o;
    }

    static std::int64_t as_int(const Ref& o, const Reader& r, std::size_t at, const char* what) {
        if (o->kind != Object::Kind::Int) r.fail_at(at, std::string(what) + " should be an int");
        return o->i;
    }
    static std::vector<std::int64_t> as_ints(const Ref& o, const Reader& r, std::size_t at, const char* what) {
        if (o->kind != Object::Kind::Tuple) r.fail_at(at, std::string(what) + " should be a tuple");
        std::vector<std::int64_t> v;
        for (const auto& item : o->items) v.push_back(as_int(item, r, at, what));
        return v;
    }

    // ('storage', torch.XStorage, key, location, numel)
    Ref persistent(const Ref& pid, std::size_t at) const {
        if (pid->kind != Object::Kind::Tuple || pid->items.size() != 5 ||
            pid->items[0]->kind != Object::Kind::String || pid->items[0]->s != "storage")
            fail_at(at, "persistent id is not a ('storage', type, key, location, numel) tuple");
        const Ref& type = pid->items[1];
        if (type->kind != Object::Kind::Global || !storage_globals().count(type->s))
            fail_at(at, "persistent id names no storage type");
        if (pid->items[2]->kind != Object::Kind::String) fail_at(at, "storage key should be a string");
        auto o = make(Object::Kind::Storage);
        o->storage.dtype = storage_globals().at(type->s);
        o->storage.key = pid->items[2]->s;
        o->storage.numel = as_int(pid->items[4], *this, at, "storage size");
        if (o->storage.numel < 0) fail_at(at, "negative storage size");
        return o;
    }

    Ref reduce(const Ref& callable, const Ref& args, std::size_t at) const {
        if (callable->kind != Object::Kind::Global) fail_at(at, "REDUCE on something that is not a global");
        if (args->kind != Object::Kind::Tuple) fail_at(at, "REDUCE arguments should be a tuple");
        const auto& a = args->items;
        if (callable->s == "collections.OrderedDict") {
            if (!a.empty()) fail_at(at, "OrderedDict built from arguments is not supported");
            return make(Object::Kind::Dict);
        }
        if (callable->s == "torch._utils._rebuild_tensor_v2") {
            if (a.size() < 4 || a[0]->kind != Object::Kind::Storage)
                fail_at(at, "_rebuild_tensor_v2 needs (storage, offset, size, stride, ...)");
            auto o = make(Object::Kind::Tensor);
            o->tensor.storage = a[0]->storage;
            o->tensor.offset = as_int(a[1], *this, at, "storage offset");
            o->tensor.shape = as_ints(a[2], *this, at, "tensor size");
            o->tensor.stride = as_ints(a[3], *this, at, "tensor stride");
            if (o->tensor.shape.size() != o->tensor.stride.size()) fail_at(at, "tensor size and stride differ in rank");
            return o;
        }
        if (callable->s == "torch._utils._rebuild_parameter") {  // (tensor, requires_grad, hooks)
            if (a.empty() || a[0]->kind != Object::Kind::Tensor) fail_at(at, "_rebuild_parameter needs a tensor");
            return a[0];
        }
        fail_at(at, "calling '" + callable->s + "' is not supported");
    }

    const std::uint8_t* p_;
    std::size_t size_;
    std::size_t pos_ = 0;
    std::string where_;
    std::vector<Ref> stack_;
    std::vector<std::size_t> marks_;
    std::unordered_map<std::uint32_t, Ref> memo_;
};

}  // namespace micse::convert::pickle
