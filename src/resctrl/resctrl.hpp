// linux.intelRdt: the container's group in the resctrl filesystem (Intel RDT, AMD PQoS). The
// runtime, never init, does all of it: a CLOS directory made when missing and schemata are
// given, the schemata written, init's pid (and each exec's) put in `tasks`, a monitoring group
// mon_groups/<id> for enableMonitoring, and at delete what it made removed again.
// The resctrl root is a parameter (the real one is the resctrl mount of /proc/self/mountinfo,
// normally /sys/fs/resctrl), so the unit tests run all of it on a directory that mimics one.
#pragma once
#include <functional>
#include <string>
#include <string_view>

#include "crunlite/spec.hpp"

namespace crunlite::resctrl {

// The mount point of the first filesystem of type "resctrl" in mountinfo text, or "".
std::string find_root(std::string_view mountinfo);
// The same from /proc/self/mountinfo.
std::string find_root();

// The schemata text to write: l3CacheSchema (less its "MB:" lines when memBwSchema is set),
// memBwSchema, then each line of `schemata`; "" when none is set (nothing is written then).
std::string schemata_text(const spec::IntelRdt& rdt);

// True when every resource line of `wanted` ("L3:0=7f0;1=1f") has the same domains and values
// in `existing` (a schemata file), bit masks compared as numbers ("0ff" is "ff").
bool schemata_match(std::string_view existing, std::string_view wanted);

// Decided before anything exists: throws Error naming the field (.linux.intelRdt,
// .closID, .enableMonitoring) when the host cannot do what the config asks.
struct GroupPlan {
    std::string group_dir;  // the CLOS: <root>/<closID or container id>, or <root> for "/"
    bool make_group = false;  // missing, and schemata given: made (and removed at delete)
    std::string schemata;  // written to a group made here; an existing one was compared
    std::string mon_dir;   // enableMonitoring: <group>/mon_groups/<id>, else ""
};
GroupPlan plan_group(const spec::IntelRdt& rdt, const std::string& container_id, const std::string& root);

// How directories are made and removed: mkdir(2)/rmdir(2), or a stand-in in the unit tests
// (a kernel resctrl mkdir makes the group's files too, and its rmdir removes them).
struct DirOps {
    std::function<int(const std::string&)> make = default_make;
    std::function<int(const std::string&)> remove = default_remove;
    static int default_make(const std::string& path);
    static int default_remove(const std::string& path);
};

// What a container holds in resctrl, as its state file keeps it.
struct Placement {
    std::string group_dir;  // "": no intelRdt
    std::string mon_dir;
    bool made_group = false;
    bool made_mon = false;
};

// Puts `pid` in the planned group (making what is missing); what it made is removed again
// on destruction unless keep() was called, so a failed create leaves nothing.
class Group {
public:
    Group(const GroupPlan& plan, int pid, DirOps ops = {});
    Group(Group&& other) noexcept : placement_(other.placement_), ops_(std::move(other.ops_)), kept_(other.kept_) { other.kept_ = true; }
    Group& operator=(Group&&) = delete;
    ~Group();
    const Placement& placement() const { return placement_; }
    void keep() { kept_ = true; }

private:
    Placement placement_;
    DirOps ops_;
    bool kept_ = false;
};

// exec: the new process joins the container's group (and monitoring group).
void join(const Placement& placement, int pid);
// delete: removes the directories the container made; a missing one is no error.
void remove(const Placement& placement, const DirOps& ops = {});

}  // namespace crunlite::resctrl
