// A JSON value together with its path in config.json, so that every type error
// can say exactly where it is (".linux.namespaces[2].type: must be a string").
#pragma once
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "crunlite/error.hpp"
#include "crunlite/spec.hpp"
#include "spec/hints.hpp"

namespace crunlite::spec {

// `text` as a JSON string literal, ASCII only: control characters and NULs show as escapes
// ("\u0000", "\n"), so that an error quoting config text stays one printable line.
inline std::string json_quoted(const std::string& text) {
    return nlohmann::json(text).dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
}

class JsonField {
public:
    JsonField(const nlohmann::json& value, std::string path) : value_(value), path_(std::move(path)) {}

    const nlohmann::json& json() const { return value_; }
    const std::string& path() const { return path_; }
    [[noreturn]] void fail(const std::string& problem, const std::string& hint = "") const {
        throw SpecError(path_, problem, hint);
    }

    // A member that is absent or null reads as "not set".
    std::optional<JsonField> member(const std::string& key) const {
        expect_object();
        auto it = value_.find(key);
        if (it == value_.end() || it->is_null()) return std::nullopt;
        return JsonField(*it, path_ + "." + key);
    }
    JsonField required(const std::string& key) const {
        auto field = member(key);
        if (!field) JsonField(value_, path_ + "." + key).fail("is required", hints::kRequired);
        return *field;
    }

    void expect_object() const {
        if (!value_.is_object()) fail("must be an object", hints::kType);
    }
    // Every string reaches the kernel, systemd or a hook as a C string, where a NUL would cut it
    // short without a word ("sh\0-c" runs "sh"): refused here, where every string is read.
    std::string string() const {
        if (!value_.is_string()) fail("must be a string", hints::kType);
        const auto& text = value_.get_ref<const std::string&>();
        if (text.find('\0') != std::string::npos) fail("must not contain a NUL byte", hints::kNulByte);
        return text;
    }
    bool boolean() const {
        if (!value_.is_boolean()) fail("must be a boolean", hints::kType);
        return value_.get<bool>();
    }
    int64_t int64() const {
        if (!value_.is_number_integer()) fail("must be an integer", hints::kType);
        if (value_.is_number_unsigned() && value_.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()))
            fail("is out of range");
        return value_.get<int64_t>();
    }
    uint64_t uint64() const {
        if (!value_.is_number_integer()) fail("must be an integer", hints::kType);
        if (value_.is_number_unsigned()) return value_.get<uint64_t>();
        if (value_.get<int64_t>() < 0) fail("must not be negative");
        return value_.get<uint64_t>();
    }
    uint32_t uint32() const {
        uint64_t v = uint64();
        if (v > std::numeric_limits<uint32_t>::max()) fail("must fit in 32 bits");
        return uint32_t(v);
    }
    int int32() const {
        int64_t v = int64();
        if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) fail("is out of range");
        return int(v);
    }

    template <typename Fn>
    void each(Fn&& fn) const {
        if (!value_.is_array()) fail("must be an array", hints::kType);
        for (size_t i = 0; i < value_.size(); ++i) fn(JsonField(value_[i], path_ + "[" + std::to_string(i) + "]"));
    }
    // Keys name sysctls, cgroup files and unit properties: a NUL is refused in them as in values.
    template <typename Fn>
    void each_member(Fn&& fn) const {
        expect_object();
        for (auto it = value_.begin(); it != value_.end(); ++it) {
            if (it.key().find('\0') != std::string::npos) fail("the key " + json_quoted(it.key()) + " must not contain a NUL byte", hints::kNulByte);
            fn(it.key(), JsonField(*it, path_ + "." + it.key()));
        }
    }
    std::vector<std::string> strings() const {
        std::vector<std::string> out;
        each([&](const JsonField& item) { out.push_back(item.string()); });
        return out;
    }

private:
    const nlohmann::json& value_;
    std::string path_;
};

// What a parse does with a SpecError. By default (create, run, exec) the first one is thrown
// and nothing else changes. `crun-lite check` gives a sink: each independent part of the
// config (a section, a field, an item of a list) then records its first error and the parse
// goes on with the next part, so that one run reports every problem.
class Collector {
public:
    Collector() = default;
    explicit Collector(std::vector<SpecError>* sink) : sink_(sink) {}

    // The same collector, with `warnings` as the place warn() writes to.
    Collector with_warnings(std::vector<SpecWarning>* warnings) const {
        Collector c = *this;
        c.warnings_ = warnings;
        return c;
    }

    bool collecting() const { return sink_ != nullptr; }

    // Runs fn; when collecting, a SpecError it throws is recorded and false returned.
    template <typename Fn>
    bool guard(Fn&& fn) const {
        if (!sink_) {
            fn();
            return true;
        }
        try {
            fn();
            return true;
        } catch (const SpecError& e) {
            record(e);
            return false;
        }
    }
    // fn(member) when the member is set, guarded.
    template <typename Fn>
    void member(const JsonField& object, const std::string& key, Fn&& fn) const {
        guard([&] {
            if (auto f = object.member(key)) fn(*f);
        });
    }
    // field.each(fn), each item guarded on its own.
    template <typename Fn>
    void each(const JsonField& list, Fn&& fn) const {
        list.each([&](const JsonField& item) { guard([&] { fn(item); }); });
    }
    template <typename Fn>
    void each_member(const JsonField& object, Fn&& fn) const {
        object.each_member([&](const std::string& key, const JsonField& value) { guard([&] { fn(key, value); }); });
    }
    void record(const SpecError& e) const {
        if (!sink_) throw e;
        for (auto& seen : *sink_)
            if (seen.json_path() == e.json_path() && std::string(seen.what()) == e.what()) return;
        sink_->push_back(e);
    }

    // An entry the parse goes on without (the runtime-spec says SHOULD NOT fail): kept for
    // create to log and for check to report as a warning; dropped when nobody asked.
    void warn(const std::string& path, const std::string& message, const std::string& hint = "") const {
        if (warnings_) warnings_->push_back({path, message, hint});
    }

private:
    std::vector<SpecError>* sink_ = nullptr;
    std::vector<SpecWarning>* warnings_ = nullptr;
};

}  // namespace crunlite::spec
