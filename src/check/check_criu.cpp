// `check --checkpoint`: whether CRIU can checkpoint and restore this bundle's container here.
// Only on request: CRIU is a separate program, and most bundles are never checkpointed.
#include <unistd.h>

#include "check/checks.hpp"
#include "criu/criu.hpp"

namespace crunlite::check {

void check_checkpoint(const Context& ctx, Report& report) {
    if (auto reason = criu::unusable_reason()) {
        report.warning("checkpoint", *reason + ": `checkpoint` and `restore` fail here",
                       "CRIU needs a kernel it supports; `criu check` shows the details");
        return;
    }
    bool refused = false;
    auto refuse = [&](const std::string& path, const std::string& message, const std::string& hint) {
        report.warning(path, message, hint);
        refused = true;
    };
    if (ctx.rootless) refuse("checkpoint", "CRIU needs root: a rootless container cannot be checkpointed", "run the container as root");
    if (ctx.spec.process && ctx.spec.process->terminal)
        refuse(".process.terminal", "a container with a terminal can be checkpointed but not restored by crun-lite", "give the container pipes as stdio");
    if (!refused) report.info("checkpoint", "`" + criu::program() + " check` passes: checkpoint and restore can work here");
}

}  // namespace crunlite::check
