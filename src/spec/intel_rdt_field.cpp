// linux.intelRdt: the names and schemata that end up as a directory name and as lines of a
// resctrl `schemata` file are checked here, so that none can name another place (a "/" or
// ".." in closID) or smuggle in a line of its own (a newline where the spec forbids one).
#include <algorithm>

#include "spec/intel_rdt_field.hpp"

namespace crunlite::spec {
namespace {

bool has_control_character(const std::string& s, bool newline_allowed) {
    return std::any_of(s.begin(), s.end(), [&](unsigned char ch) { return (ch < 0x20 && !(newline_allowed && ch == '\n')) || ch == 0x7f; });
}

constexpr const char* kClosHint =
    "give the name of a resctrl group (one directory under the resctrl mount, e.g. \"guaranteed_group\"), or \"/\" for the default CLOS";

}  // namespace

IntelRdt parse_intel_rdt(const JsonField& field) {
    IntelRdt rdt;
    field.expect_object();
    if (auto f = field.member("closID")) {
        rdt.clos_id = f->string();
        const std::string& id = rdt.clos_id;
        if (id != "/" && (id.find('/') != std::string::npos || id == "." || id == ".."))
            f->fail("must be one directory name, or \"/\" for the default CLOS: " + json_quoted(id), kClosHint);
        // The resctrl root's own directories, not classes of service.
        if (id == "info" || id == "mon_groups" || id == "mon_data")
            f->fail(json_quoted(id) + " is a directory of the resctrl filesystem itself, not a CLOS", kClosHint);
        if (has_control_character(id, false)) f->fail("must not contain control characters: " + json_quoted(id), kClosHint);
    }
    if (auto f = field.member("l3CacheSchema")) {
        // SHOULD be one "L3:" line; a line "MB:" in it gives way to memBwSchema (config-linux.md).
        rdt.l3_cache_schema = f->string();
        if (has_control_character(rdt.l3_cache_schema, true))
            f->fail("must not contain control characters: " + json_quoted(rdt.l3_cache_schema), "e.g. \"L3:0=7f0;1=1f\"");
    }
    if (auto f = field.member("memBwSchema")) {
        rdt.mem_bw_schema = f->string();
        if (!rdt.mem_bw_schema.empty() && (rdt.mem_bw_schema.rfind("MB:", 0) != 0 || has_control_character(rdt.mem_bw_schema, false)))
            f->fail("must be one line starting with \"MB:\": " + json_quoted(rdt.mem_bw_schema), "e.g. \"MB:0=20;1=70\"");
    }
    if (auto f = field.member("schemata")) {
        f->each([&](const JsonField& item) {
            std::string line = item.string();
            if (line.empty() || has_control_character(line, false))
                item.fail("must be one non-empty line of a resctrl schemata file: " + json_quoted(line), "e.g. \"L3:0=ff;1=ff\" or \"MB:0=50\"");
            rdt.schemata.push_back(line);
        });
    }
    if (auto f = field.member("enableMonitoring")) rdt.enable_monitoring = f->boolean();
    // runtime-spec 1.1/1.2 had these two; 1.3 replaced them with enableMonitoring, which is what a
    // resctrl filesystem can do (it gives every metric it has, or none).
    for (const char* old : {"enableCMT", "enableMBM"})
        if (auto f = field.member(old); f && f->boolean())
            f->fail("was replaced by .linux.intelRdt.enableMonitoring (runtime-spec 1.3)", "set \"enableMonitoring\": true instead");
    return rdt;
}

}  // namespace crunlite::spec
