#include "cgroups/systemd/unit_placement.hpp"

#include <algorithm>

#include "crunlite/error.hpp"
#include "util/text.hpp"

namespace crunlite::cgroups::systemd {
namespace {

constexpr const char* kField = ".linux.cgroupsPath";
constexpr std::string_view kSliceSuffix = ".slice";

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

bool is_valid_unit_name(const std::string& name) {
    if (name.empty() || name.size() > 255) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' || c == '_' || c == '.' ||
               c == '-' || c == '\\' || c == '@';
    });
}

std::string expand_slice(const std::string& slice, const std::string& json_path) {
    auto bad = [&](const std::string& why) {
        return SpecError(json_path, "invalid systemd slice \"" + slice + "\": " + why);
    };
    if (!ends_with(slice, kSliceSuffix)) throw bad("a slice name ends in \".slice\"");
    if (slice.find('/') != std::string::npos) throw bad("a slice name has no '/' (write nested slices as a-b.slice)");
    if (!is_valid_unit_name(slice)) throw bad("not a valid systemd unit name");
    if (slice == "-.slice") return "";  // the root slice
    std::string stem = slice.substr(0, slice.size() - kSliceSuffix.size());
    if (stem.empty() || stem.front() == '-' || stem.back() == '-' || stem.find("--") != std::string::npos)
        throw bad("dashes separate nested slice names and cannot start, end or repeat");
    // Each dash starts a child of the slice named by what comes before it.
    std::string path;
    for (size_t dash = stem.find('-');; dash = stem.find('-', dash + 1)) {
        path += "/" + stem.substr(0, dash) + std::string(kSliceSuffix);
        if (dash == std::string::npos) break;
    }
    return path;
}

UnitPlacement place_unit(const std::string& cgroups_path, const std::string& container_id) {
    std::string spec = cgroups_path.empty() ? ":crun-lite:" + container_id : cgroups_path;
    std::vector<std::string> parts;
    for (size_t start = 0;;) {
        size_t colon = spec.find(':', start);
        parts.push_back(spec.substr(start, colon == std::string::npos ? std::string::npos : colon - start));
        if (colon == std::string::npos) break;
        start = colon + 1;
    }
    if (parts.size() != 3)
        throw SpecError(kField, "\"" + cgroups_path + "\" is not of the form \"slice:prefix:name\", which --systemd-cgroup needs "
                                "(for example \"system.slice:myprefix:" + container_id + "\")");
    const std::string& prefix = parts[1];
    const std::string& name = parts[2];
    if (name.empty()) throw SpecError(kField, "\"" + cgroups_path + "\": the name (after the second ':') is empty");

    UnitPlacement placement;
    placement.slice = parts[0].empty() ? "system.slice" : parts[0] == "-" ? "-.slice" : parts[0];
    std::string slice_path = expand_slice(placement.slice);
    if (ends_with(name, kSliceSuffix)) {
        // A slice of its own: its name says where it is (systemd checks that it is below the parent).
        placement.is_slice = true;
        placement.unit = name;
        placement.cgroup_path = expand_slice(name);
    } else {
        placement.unit = (prefix.empty() ? name : prefix + "-" + name) + ".scope";
        placement.cgroup_path = slice_path + "/" + placement.unit;
    }
    if (!is_valid_unit_name(placement.unit))
        throw SpecError(kField, "\"" + cgroups_path + "\" gives the unit name \"" + placement.unit +
                                    "\", which systemd does not accept (letters, digits and :_.-\\@ only, at most 255 bytes)");
    return placement;
}

}  // namespace crunlite::cgroups::systemd
