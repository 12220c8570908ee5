#pragma once

namespace crunlite::runtime {

// With every signal blocked by the caller: forwards each signal to `pid` until it exits, and
// returns its exit status (128+N when killed by signal N).
int wait_forwarding_signals(int pid);

}  // namespace crunlite::runtime
