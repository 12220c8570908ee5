// The hints of config errors that many fields share, given where each error is thrown; check
// and the command line show them with the error.
#pragma once
#include <string>

namespace crunlite::spec::hints {

inline constexpr const char* kAbsolutePath = "start the path with /";
inline constexpr const char* kRequired = "add this field; `crun-lite spec` writes a complete config.json to start from";
inline constexpr const char* kType =
    "the runtime-spec (config.md, config-linux.md) gives this field's type; `crun-lite spec` writes an example";
inline constexpr const char* kOnlyOnce = "list each one only once";
inline constexpr const char* kCapabilityNames =
    "capability names are CAP_* as in capabilities(7); `crun-lite features` lists the ones this kernel has "
    "(.linux.capabilities)";
inline constexpr const char* kNulByte = "remove the NUL (\\u0000): the kernel reads strings only up to the first one";
inline constexpr const char* kSeccompNames =
    "`crun-lite features` lists the seccomp actions, operators, architectures and flags this build knows";
// For an error thrown without a hint of its own.
inline constexpr const char* kValues = "the runtime-spec (config.md, config-linux.md) gives the values this field takes";

// For a field that needs a namespace the config does not have.
inline std::string add_namespace(const std::string& kind) {
    return "add that namespace to .linux.namespaces (e.g. {\"type\": \"" + kind + "\"}), or remove this field";
}

}  // namespace crunlite::spec::hints
