#include "util/passwd.hpp"

#include <array>
#include <optional>

#include "util/text.hpp"

namespace crunlite {
namespace {

// name:password:uid:gid:gecos:home:shell
struct PasswdEntry {
    std::string_view name;
    std::string_view home;
};

// The first line of `content` whose uid field is `uid`; a line with fewer fields is skipped.
std::optional<PasswdEntry> find_entry(std::string_view content, uid_t uid) {
    std::string uid_text = std::to_string(uid);
    while (!content.empty()) {
        size_t end = content.find('\n');
        std::string_view line = content.substr(0, end);
        content = end == std::string_view::npos ? std::string_view{} : content.substr(end + 1);
        std::array<std::string_view, 7> fields{};
        size_t count = 0;
        for (size_t start = 0; count < fields.size();) {
            size_t colon = line.find(':', start);
            fields[count++] = line.substr(start, colon == std::string_view::npos ? std::string_view::npos : colon - start);
            if (colon == std::string_view::npos) break;
            start = colon + 1;
        }
        if (count >= 3 && fields[2] == uid_text) return PasswdEntry{fields[0], count >= 6 ? fields[5] : std::string_view{}};
    }
    return std::nullopt;
}

}  // namespace

std::string passwd_user_name(uid_t uid) {
    std::string content;
    if (!text::read_file("/etc/passwd", content)) return "";
    auto entry = find_entry(content, uid);
    return entry ? std::string(entry->name) : "";
}

std::string passwd_home_directory(std::string_view content, uid_t uid) {
    auto entry = find_entry(content, uid);
    return entry && !entry->home.empty() ? std::string(entry->home) : "/";
}

std::string passwd_home_directory_from_fd(int passwd_fd, uid_t uid) {
    std::string content;
    if (!text::read_fd(passwd_fd, content)) return "/";
    return passwd_home_directory(content, uid);
}

}  // namespace crunlite
