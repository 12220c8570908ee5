#include "sys/user_namespace.hpp"

#include <unistd.h>

#include <cstdio>
#include <string>

#include "util/text.hpp"

namespace crunlite::sys {

bool is_initial_uid_map(std::string_view uid_map) {
    if (uid_map.empty() || uid_map.find('\n') != uid_map.size() - 1) return false;  // exactly one line
    std::string line(uid_map);
    unsigned long inside = 1, outside = 1, count = 0;
    char extra = 0;
    return std::sscanf(line.c_str(), "%lu %lu %lu %c", &inside, &outside, &count, &extra) == 3 && inside == 0 && outside == 0 &&
           count == 4294967295UL;
}

bool runtime_is_unprivileged() { return ::geteuid() != 0 || in_user_namespace(); }

bool in_user_namespace() {
    std::string map;
    // Without /proc/self/uid_map (a kernel without user namespaces) there is only the initial one.
    if (!text::read_file("/proc/self/uid_map", map, 4096)) return false;
    return !is_initial_uid_map(map);
}

}  // namespace crunlite::sys
