// Running Debian's `criu` (3.17) through its command line: the program, whether it works on this
// host, and its failures as one line. The program is $CRUN_LITE_CRIU, else `criu` from PATH.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "util/subprocess.hpp"

namespace crunlite::criu {

// $CRUN_LITE_CRIU when set, else "criu" (looked up in PATH).
std::string program();

// Why checkpoint/restore cannot work here (`criu check` fails, or there is no criu), in one
// line; nullopt when `criu check` passes. Asked once per process.
std::optional<std::string> unusable_reason();

// The line of a CRIU log that says why it failed: the first "Error" line of the last cluster of
// error lines (CRIU logs the cause first, then what failed because of it, then its clean-up,
// whose own errors come in a later cluster). Without the "(00.123456) " time stamp and the
// "Error (file.c:N): " lead; "" when the log holds no error line.
std::string decisive_error(const std::string& log);

// Runs `criu ACTION ARGS... -o LOG_NAME -v4` (LOG_NAME is written in the work directory
// `work_dir`), in a process group of its own. Throws Error("criu ACTION: <decisive line>", hint
// naming the log) when it fails.
void run(const std::string& action, const std::vector<std::string>& args, const std::string& work_dir,
         const std::string& log_name, subprocess::Options options = {});

}  // namespace crunlite::criu
