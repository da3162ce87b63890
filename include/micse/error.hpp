#pragma once
// micse::Error: the one exception type the library throws. Its message names the file, the
// tensor or the byte offset involved, so a user can act on it without a debugger.
#include <stdexcept>
#include <string>

namespace micse {

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace micse
