// One error type for the whole runtime: what failed, on which path or JSON field, the errno
// text, and where it helps a hint on what to do: "<what>: <errno text> (hint: <hint>)", one
// line. It is printed in exactly one place (cli/main.cpp).
#pragma once
#include <cerrno>
#include <stdexcept>
#include <string>

namespace crunlite {

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& message, int err = 0)
        : std::runtime_error(err ? message + ": " + errno_text(err) : message), errno_(err) {}
    Error(const std::string& message, int err, const std::string& hint)
        : std::runtime_error(with_hint(err ? message + ": " + errno_text(err) : message, hint)), errno_(err) {}

    int error_number() const noexcept { return errno_; }
    static std::string errno_text(int err);
    static std::string with_hint(const std::string& message, const std::string& hint) {
        return hint.empty() ? message : message + " (hint: " + hint + ")";
    }

private:
    int errno_;
};

// A system call failed; `what` names the call and the path it acted on.
[[noreturn]] inline void throw_errno(const std::string& what, int err = errno) { throw Error(what, err); }

// config.json carried something wrong; `json_path` is like ".process.args[0]".
class SpecError : public Error {
public:
    SpecError(const std::string& json_path, const std::string& problem)
        : Error(json_path + ": " + problem), json_path_(json_path) {}
    const std::string& json_path() const noexcept { return json_path_; }

private:
    std::string json_path_;
};

// The container named on the command line does not exist (callers such as `delete --force`
// treat this one as success).
class NotFoundError : public Error {
public:
    explicit NotFoundError(const std::string& id)
        : Error("container \"" + id + "\" does not exist", 0,
                "`crun-lite list` shows the containers; give the same --root as when it was created") {}
};

}  // namespace crunlite
