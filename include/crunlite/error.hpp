// One error type for the whole runtime. It keeps its parts: what failed, the config.json field
// it concerns (".process.args[0]", or none), the errno, and where it helps a hint on what to do.
// They are put together only to be shown: what() is the one-line form
// "[<json path>: ]<what>[: <errno text>][ (hint: <hint>)]". It is printed in exactly one place
// (cli/main.cpp), as that line or, with --log-format json, with the parts as keys of their own;
// `crun-lite check` reads the parts.
#pragma once
#include <cerrno>
#include <stdexcept>
#include <string>

namespace crunlite {

// The config.json field an Error concerns, like ".mounts[2].source".
struct JsonPath {
    std::string path;
};

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& what, int err = 0) : Error(JsonPath{}, what, err, "") {}
    Error(const std::string& what, int err, const std::string& hint) : Error(JsonPath{}, what, err, hint) {}
    // A failure at a config.json field that is not the config's own fault (a bind source
    // missing on the host, a value the kernel refuses): what() as for Error(path + ": " + what).
    Error(const JsonPath& where, const std::string& what, int err = 0, const std::string& hint = "")
        : std::runtime_error(one_line(where.path, what, err, hint)), json_path_(where.path), what_(what), errno_(err), hint_(hint),
          hint_in_text_(true) {}

    const std::string& json_path() const noexcept { return json_path_; }  // empty when no field
    const std::string& what_failed() const noexcept { return what_; }     // without path, errno or hint
    int error_number() const noexcept { return errno_; }                  // 0 when none
    const std::string& hint() const noexcept { return hint_; }            // empty when none
    // what_failed() and the errno text: the message without the path and the hint.
    std::string problem() const { return errno_ ? what_ + ": " + errno_text(errno_) : what_; }
    // The line shown to the user: what() with the hint, also where what() leaves it out.
    std::string line() const { return hint_in_text_ ? what() : with_hint(what(), hint_); }
    // The same error with its text led by `context` ("config.json: .process.args: …"); its parts
    // are unchanged.
    Error in_context(const std::string& context) const {
        Error copy = *this;
        static_cast<std::runtime_error&>(copy) = std::runtime_error(context + ": " + what());
        return copy;
    }

    // An error formatted elsewhere (container init's, received over the protocol): `text` is its
    // what(); the errno stays for callers that branch on it.
    static Error formatted(const std::string& text, int err) {
        Error e(text);
        e.errno_ = err;
        return e;
    }

    static std::string errno_text(int err);
    static std::string with_hint(const std::string& message, const std::string& hint) {
        return hint.empty() ? message : message + " (hint: " + hint + ")";
    }

protected:
    // For SpecError, whose what() has always been "<json path>: <problem>", with no hint (callers
    // wrap it into messages of their own) and the ": " even when the path is empty (the whole
    // document).
    struct SpecErrorText {};
    Error(SpecErrorText, const JsonPath& where, const std::string& problem, const std::string& hint)
        : std::runtime_error(where.path + ": " + problem), json_path_(where.path), what_(problem), errno_(0), hint_(hint),
          hint_in_text_(false) {}

private:
    static std::string one_line(const std::string& json_path, const std::string& what, int err, const std::string& hint) {
        std::string text = json_path.empty() ? what : json_path + ": " + what;
        return with_hint(err ? text + ": " + errno_text(err) : text, hint);
    }

    std::string json_path_;
    std::string what_;
    int errno_;
    std::string hint_;
    bool hint_in_text_;
};

// A system call failed; `what` names the call and the path it acted on.
[[noreturn]] inline void throw_errno(const std::string& what, int err = errno) { throw Error(what, err); }

// config.json carried something wrong; `json_path` is like ".process.args[0]". The hint, when
// given, says how to fix it (what() stays "<json path>: <problem>").
class SpecError : public Error {
public:
    SpecError(const std::string& json_path, const std::string& problem, const std::string& hint = "")
        : Error(SpecErrorText{}, JsonPath{json_path}, problem, hint) {}
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
