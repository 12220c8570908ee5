#include "util/text.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "crunlite/unique_fd.hpp"

namespace crunlite::text {

bool read_file(const std::string& path, std::string& out, size_t limit) {
    out.clear();
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    return fd && read_fd(fd.get(), out, limit);
}

bool read_fd(int fd, std::string& out, size_t limit) {
    out.clear();
    char buffer[8192];
    for (;;) {
        ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return false;
        if (n == 0) return true;
        if (out.size() + size_t(n) > limit) {
            errno = EFBIG;
            return false;
        }
        out.append(buffer, size_t(n));
    }
}

bool write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (n == 0) errno = EIO;
            return false;
        }
        data.remove_prefix(size_t(n));
    }
    return true;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
    std::vector<std::string_view> parts;
    while (!text.empty()) {
        size_t end = text.find(separator);
        std::string_view part = text.substr(0, end);
        if (!part.empty()) parts.push_back(part);
        if (end == std::string_view::npos) break;
        text.remove_prefix(end + 1);
    }
    return parts;
}

bool has_item(std::string_view list, std::string_view token, char separator) {
    for (std::string_view item : split(list, separator))
        if (item == token) return true;
    return false;
}

std::string parse_number_list(std::string_view text, unsigned limit, std::vector<unsigned>& out) {
    std::vector<bool> seen;
    size_t pos = 0;
    std::string problem;
    auto quoted = [](char c) { return "unexpected \"" + std::string(1, c) + "\""; };
    auto number = [&](unsigned& value) {
        size_t start = pos;
        unsigned long long n = 0;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9' && n < limit) n = n * 10 + unsigned(text[pos++] - '0');
        if (pos == start) problem = pos < text.size() ? quoted(text[pos]) : "a number is missing at the end";
        else if (n >= limit) problem = "each number must be below " + std::to_string(limit);
        value = unsigned(n);
        return problem.empty();
    };
    while (pos < text.size()) {
        unsigned first = 0, last = 0;
        if (!number(first)) return problem;
        last = first;
        if (pos < text.size() && text[pos] == '-') {
            ++pos;
            if (!number(last)) return problem;
            if (last < first) return "a range goes from low to high";
        }
        if (seen.size() <= last) seen.resize(last + 1);
        for (unsigned n = first; n <= last; ++n) seen[n] = true;
        if (pos < text.size()) {
            if (text[pos] != ',') return quoted(text[pos]);
            if (++pos == text.size()) return "a number is missing at the end";
        }
    }
    out.clear();
    for (unsigned n = 0; n < seen.size(); ++n)
        if (seen[n]) out.push_back(n);
    return "";
}

std::string trim_number_list(std::string_view list) {
    auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\n'; };
    auto separator = [](char c) { return c == ',' || c == '-'; };
    std::string out;
    for (size_t i = 0; i < list.size(); ++i) {
        if (!blank(list[i])) {
            out += list[i];
            continue;
        }
        size_t next = i;
        while (next < list.size() && blank(list[next])) ++next;
        bool after_separator = out.empty() || separator(out.back());
        bool before_separator = next == list.size() || separator(list[next]);
        if (!after_separator && !before_separator) out += list[i];
    }
    return out;
}

}  // namespace crunlite::text
