// Helpers shared by the unit tests: SpecError assertions and a self-cleaning temp directory.
#pragma once
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <utility>

#include "crunlite/error.hpp"

namespace crunlite::test {

inline bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

// `fn` must throw a SpecError whose json_path() is exactly `path`, whose message starts with
// "<path>: " and contains `fragment`.
template <typename Fn>
::testing::AssertionResult ThrowsSpecError(Fn&& fn, const std::string& path, const std::string& fragment = "") {
    try {
        std::forward<Fn>(fn)();
    } catch (const SpecError& e) {
        std::string what = e.what();
        if (e.json_path() != path)
            return ::testing::AssertionFailure()
                   << "json_path() is \"" << e.json_path() << "\", expected \"" << path << "\" (message: " << what << ")";
        if (what.rfind(path + ": ", 0) != 0)
            return ::testing::AssertionFailure() << "message \"" << what << "\" does not start with \"" << path << ": \"";
        if (!contains(what, fragment))
            return ::testing::AssertionFailure() << "message \"" << what << "\" does not contain \"" << fragment << "\"";
        return ::testing::AssertionSuccess();
    } catch (const std::exception& e) {
        return ::testing::AssertionFailure() << "threw something other than SpecError: " << e.what();
    }
    return ::testing::AssertionFailure() << "did not throw (expected SpecError at \"" << path << "\")";
}

// `fn` must throw crunlite::Error (any subclass) whose message contains `fragment`.
template <typename Fn>
::testing::AssertionResult ThrowsError(Fn&& fn, const std::string& fragment) {
    try {
        std::forward<Fn>(fn)();
    } catch (const Error& e) {
        if (!contains(e.what(), fragment))
            return ::testing::AssertionFailure() << "message \"" << e.what() << "\" does not contain \"" << fragment << "\"";
        return ::testing::AssertionSuccess();
    } catch (const std::exception& e) {
        return ::testing::AssertionFailure() << "threw something other than crunlite::Error: " << e.what();
    }
    return ::testing::AssertionFailure() << "did not throw (expected an error containing \"" << fragment << "\")";
}

// `fn` must not throw; the failure message carries the exception's text.
template <typename Fn>
::testing::AssertionResult DoesNotThrow(Fn&& fn) {
    try {
        std::forward<Fn>(fn)();
    } catch (const std::exception& e) {
        return ::testing::AssertionFailure() << "threw: " << e.what();
    }
    return ::testing::AssertionSuccess();
}

// A fresh directory under $TMPDIR (or /tmp), removed with its contents on destruction.
class TempDir {
public:
    TempDir() {
        std::string base = std::filesystem::temp_directory_path().string() + "/crunlite-unit-XXXXXX";
        if (!::mkdtemp(base.data())) throw std::runtime_error("mkdtemp failed");
        path_ = base;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }
    std::string operator/(const std::string& name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

}  // namespace crunlite::test
