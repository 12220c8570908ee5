// A container without a mount namespace of its own shares the runtime's (runtime-spec: a
// namespace not listed is the runtime's). Its root filesystem is then set up in that namespace,
// as runc does, but all of it under one mount of ours: a private bind of the root onto itself,
// the "host root", made here before clone. Every mount of the config lands on it, and `delete`
// (or a failed create) detaches it with all of them, so nothing of the container stays mounted
// on the host; runc leaves its mounts there.
#pragma once
#include <cstdint>
#include <string>

#include "crunlite/unique_fd.hpp"

namespace crunlite::runtime {

class HostRoot {
public:
    // Binds `rootfs` (recursively) onto itself, private before it is attached, so that no mount
    // made on it later reaches another mount namespace.
    static HostRoot attach(const std::string& rootfs);

    HostRoot(HostRoot&&) = default;
    HostRoot& operator=(HostRoot&&) = default;
    ~HostRoot();  // detaches the mount unless keep() was called

    int fd() const { return mount_.get(); }  // the root of the mount (an open_tree descriptor)
    uint64_t id() const { return id_; }
    uint64_t unique_id() const { return unique_id_; }
    void keep() { kept_ = true; }

private:
    HostRoot() = default;
    UniqueFd mount_;
    std::string rootfs_;
    uint64_t id_ = 0, unique_id_ = 0;
    bool kept_ = false;
};

// `delete`: detaches the host root recorded as (id, unique_id) at `rootfs`, with everything
// mounted on it. A mount at `rootfs` that is not that one is never touched; mounts stacked on
// ours (the container mounted over its own "/") go first.
void detach_host_root(const std::string& rootfs, uint64_t id, uint64_t unique_id);

}  // namespace crunlite::runtime
