// Small files and short lists read without iostreams: a stream costs a locale and a buffer
// per use, which adds up on the path of a container start (mountinfo, /proc/<pid>/stat,
// cgroup control files, config.json).
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace crunlite::text {

// The whole file (up to `limit` bytes, then false with errno EFBIG) into `out`; false with
// errno set when it cannot be opened or read.
bool read_file(const std::string& path, std::string& out, size_t limit = 1 << 20);
// The same from an open descriptor, from its current offset to the end.
bool read_fd(int fd, std::string& out, size_t limit = 1 << 20);

// All of `data` to `fd`, going on after short writes and EINTR; false with errno set when a
// write fails (EIO when it writes nothing).
bool write_all(int fd, std::string_view data);

// The pieces of `text` between `separator`s, empty ones dropped.
std::vector<std::string_view> split(std::string_view text, char separator);

// A list of numbers and low-high ranges separated by commas, as the kernel writes CPU and
// memory node lists ("0-3,7"), each number below `limit`; "" is the empty list. Sorted and
// once each into `out`. Returns why `text` is not such a list (its first problem, in words
// such as "a range goes from low to high"), "" when it is. No white space is taken: a file's
// trailing newline is the caller's to trim.
std::string parse_number_list(std::string_view text, unsigned limit, std::vector<unsigned>& out);

// `list` without the blanks (spaces, tabs, newlines) at its ends and around its commas and
// dashes, as the kernel reads a cpuset list: " 0 - 2, 4\n" -> "0-2,4". A blank between two
// digits stays, for parse_number_list to refuse ("1 2" is no list).
std::string trim_number_list(std::string_view list);

// Whether `token` is one of the `separator`-separated items of `list`.
bool has_item(std::string_view list, std::string_view token, char separator = ',');

}  // namespace crunlite::text
