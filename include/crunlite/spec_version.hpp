// The runtime-spec versions in one place. Two of them differ on purpose:
// - kSpecVersion is what crun-lite writes (`spec`'s config.json) and reports (state, hooks'
//   state, the seccomp listener's message): the release whose fields crun-lite implements in
//   full, and which the engines and tools that read our output already know;
// - kNewestSpecVersion is the newest a config.json may declare: its fields that crun-lite does
//   not implement are refused by name when a config uses them, never silently ignored, so a
//   newer declaration alone is no reason to refuse a config.
#pragma once
#include <string>
#include <string_view>

namespace crunlite::spec {

inline constexpr const char* kSpecVersion = "1.2.0";
inline constexpr const char* kOldestSpecVersion = "1.0.0";
inline constexpr const char* kNewestSpecVersion = "1.3.0";

// The number at `index` (0 major, 1 minor, 2 patch) of a version such as "1.3.0".
constexpr unsigned version_number(std::string_view version, int index) {
    unsigned value = 0;
    for (char c : version) {
        if (c == '.') {
            if (index-- == 0) return value;
            value = 0;
        } else if (c >= '0' && c <= '9') {
            value = value * 10 + unsigned(c - '0');
        } else {
            break;
        }
    }
    return index == 0 ? value : 0;
}
static_assert(version_number(kNewestSpecVersion, 0) == 1 && version_number(kNewestSpecVersion, 1) == 3);
static_assert(version_number(kOldestSpecVersion, 0) == version_number(kNewestSpecVersion, 0),
              "the version check accepts one major version");

// "1.0.0 to 1.3.x": the versions a config.json may declare, for messages and hints.
inline std::string accepted_spec_versions() {
    return std::string(kOldestSpecVersion) + " to " + std::to_string(version_number(kNewestSpecVersion, 0)) + "." +
           std::to_string(version_number(kNewestSpecVersion, 1)) + ".x";
}

}  // namespace crunlite::spec
