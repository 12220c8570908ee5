// The runtime-spec version crun-lite implements, in one place: `--version` ("spec:"), `spec`'s
// config.json, `features` (ociVersionMax), the state, the hooks' state and the seccomp
// listener's message all say this one, as runc says its own specs.Version everywhere.
// A config.json may declare any 1.x (runc checks no version at all): a newer minor only adds
// optional fields, which crun-lite does not know and leaves alone, as it does any unknown key.
#pragma once
#include <string>
#include <string_view>

namespace crunlite::spec {

inline constexpr const char* kSpecVersion = "1.3.0";
inline constexpr const char* kOldestSpecVersion = "1.0.0";

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
static_assert(version_number(kSpecVersion, 0) == 1 && version_number(kSpecVersion, 1) == 3);
static_assert(version_number(kOldestSpecVersion, 0) == version_number(kSpecVersion, 0),
              "the version check accepts one major version");

// "1.x from 1.0.0": the versions a config.json may declare, for messages and hints.
inline std::string accepted_spec_versions() {
    return std::to_string(version_number(kSpecVersion, 0)) + ".x from " + kOldestSpecVersion;
}

}  // namespace crunlite::spec
