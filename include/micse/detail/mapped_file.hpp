#pragma once
// A read-only memory map of a whole file (POSIX). The model's weights are views into it, so it
// lives as long as the model that reads them.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

#include "../error.hpp"

namespace micse::detail {

class MappedFile {
public:
    MappedFile() = default;

    explicit MappedFile(const std::string& path) : path_(path) {
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) throw Error(path + ": cannot open: " + std::strerror(errno));
        struct stat st {};
        if (::fstat(fd, &st) != 0) {
            const int err = errno;
            ::close(fd);
            throw Error(path + ": cannot stat: " + std::strerror(err));
        }
        if (!S_ISREG(st.st_mode)) {
            ::close(fd);
            throw Error(path + ": not a regular file");
        }
        size_ = static_cast<std::size_t>(st.st_size);
        if (size_ == 0) {
            ::close(fd);
            throw Error(path + ": the file is empty");
        }
        void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
        const int err = errno;
        ::close(fd);  // the mapping keeps its own reference to the file
        if (p == MAP_FAILED) throw Error(path + ": cannot map: " + std::strerror(err));
        data_ = static_cast<const std::uint8_t*>(p);
    }

    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    MappedFile(MappedFile&& other) noexcept { swap(other); }
    MappedFile& operator=(MappedFile&& other) noexcept {
        MappedFile tmp(std::move(other));
        swap(tmp);
        return *this;
    }
    ~MappedFile() {
        if (data_) ::munmap(const_cast<std::uint8_t*>(data_), size_);
    }

    // Tells the kernel that the pages wholly inside [p, p + n) are not needed now: they leave
    // the process's resident memory. The mapping is private and read-only, so a later read of
    // them simply loads them from the file again; nothing observable changes.
    void release(const std::uint8_t* p, std::size_t n) const {
        const std::uintptr_t page = std::uintptr_t(::sysconf(_SC_PAGESIZE));
        std::uintptr_t lo = reinterpret_cast<std::uintptr_t>(p), hi = lo + n;
        lo = (lo + page - 1) / page * page;
        hi = hi / page * page;
        const auto base = reinterpret_cast<std::uintptr_t>(data_);
        if (hi > lo && lo >= base && hi <= base + size_) ::madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_DONTNEED);
    }

    const std::uint8_t* data() const { return data_; }
    std::size_t size() const { return size_; }
    const std::string& path() const { return path_; }

private:
    void swap(MappedFile& o) noexcept {
        std::swap(path_, o.path_);
        std::swap(data_, o.data_);
        std::swap(size_, o.size_);
    }
    std::string path_;
    const std::uint8_t* data_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace micse::detail
