// Runtime logging: stderr by default, or --log FILE in text or JSON lines
// ({"level":…,"msg":…,"time":…}, which containerd's shim reads back after a failure).
#pragma once
#include <string>

#include "crunlite/error.hpp"

namespace crunlite::log {

enum class Format { text, json };
enum class Level { debug, info, warning, error };

void configure(const std::string& file, Format format, bool debug);
bool debug_enabled();
void write(Level level, const std::string& message);

inline void debug(const std::string& m) {
    if (debug_enabled()) write(Level::debug, m);
}
inline void warning(const std::string& m) { write(Level::warning, m); }
inline void error(const std::string& m) { write(Level::error, m); }
// An Error as the line it reads as; in JSON also with its parts as keys beside "msg":
// "json_path", "errno" (the number) and "hint", each only when the error has it.
void error(const Error& e);

// RFC 3339 with nanoseconds in UTC, as runc prints `created`.
std::string rfc3339_now();

}  // namespace crunlite::log
