// linux.netDevices: the runtime moves each host interface into the container's network
// namespace, once init is cloned (and before GO, so that the container never runs without
// them). Runs in the runtime, which holds CAP_NET_ADMIN over both namespaces; init may sit in
// a new user namespace that has no say over the host's interfaces.
#pragma once
#include <sys/types.h>

#include <memory>

#include "plan/init_plan.hpp"

namespace crunlite::launch {

struct MovedInterfaces;

// The interfaces a create moved, until it completes: should it fail afterwards (init's setup,
// a hook), they go back to the host under their own names with their addresses. The container's
// network namespace is held open meanwhile, so that an init that died does not take them with it
// (the kernel destroys virtual interfaces with their namespace).
class MovedNetDevices {
public:
    MovedNetDevices();
    explicit MovedNetDevices(std::unique_ptr<MovedInterfaces> moved);
    MovedNetDevices(MovedNetDevices&&) noexcept;
    // No assignment: it would drop the interfaces held before without putting them back.
    MovedNetDevices& operator=(MovedNetDevices&&) = delete;
    ~MovedNetDevices();
    void keep();  // the container exists: they stay in its namespace

private:
    std::unique_ptr<MovedInterfaces> moved_;
};

// Moves and renames each planned interface into init's network namespace (the joined one, or
// the one init was cloned into), gives it back its permanent global addresses, which the
// kernel drops on the move, and sets it up. Throws Error naming `.linux.netDevices.<name>`,
// with the ones already moved put back.
MovedNetDevices move_net_devices(const planning::LaunchPlan& plan, pid_t init_pid);

}  // namespace crunlite::launch
