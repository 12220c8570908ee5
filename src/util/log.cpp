#include "crunlite/log.hpp"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "crunlite/error.hpp"
#include "crunlite/unique_fd.hpp"
#include "util/text.hpp"

namespace crunlite::log {
namespace {

struct Sink {
    UniqueFd file;
    Format format = Format::text;
    bool debug = false;
};
Sink& sink() {
    static Sink s;
    return s;
}

const char* level_name(Level level) {
    switch (level) {
        case Level::debug: return "debug";
        case Level::info: return "info";
        case Level::warning: return "warning";
        case Level::error: return "error";
    }
    return "error";
}

}  // namespace

void configure(const std::string& file, Format format, bool debug) {
    Sink& s = sink();
    s.format = format;
    s.debug = debug;
    if (!file.empty()) {
        int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0) throw Error("open log file " + file, errno);
        s.file.reset(fd);
    } else {
        s.file.reset();  // back to stderr
    }
}

bool debug_enabled() { return sink().debug; }

std::string rfc3339_now() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    // Civil date from days since 1970 (H. Hinnant's algorithm): glibc's gmtime_r and strftime
    // would first load the host's time zone file, which a UTC time never needs.
    long long days = ts.tv_sec / 86400, secs = ts.tv_sec % 86400;
    long long z = days + 719468, era = z / 146097, doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    long long day = doy - (153 * mp + 2) / 5 + 1, month = mp < 10 ? mp + 3 : mp - 9;
    long long year = yoe + era * 400 + (month <= 2);
    char buf[64];
    snprintf(buf, sizeof buf, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%09ldZ", year, month, day, secs / 3600,
             secs / 60 % 60, secs % 60, ts.tv_nsec);
    return buf;
}

namespace {

// `fields`: more keys for the JSON form (an object, or null for none); the text form has the message alone.
void write_entry(Level level, const std::string& message, const nlohmann::json& fields) {
    Sink& s = sink();
    if (s.file) {
        std::string line;
        if (s.format == Format::json) {
            nlohmann::json entry = {{"level", level_name(level)}, {"msg", message}, {"time", rfc3339_now()}};
            if (fields.is_object()) entry.update(fields);
            line = entry.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
        } else {
            line = "time=\"" + rfc3339_now() + "\" level=" + level_name(level) + " msg=" + nlohmann::json(message).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
        }
        (void)text::write_all(s.file.get(), line);  // logging must never be why a container fails
    }
    // stderr is never the container's stdout; errors always reach the user there too.
    if (!s.file || level == Level::error) (void)text::write_all(STDERR_FILENO, "crun-lite: " + message + "\n");
}

}  // namespace

void write(Level level, const std::string& message) { write_entry(level, message, nullptr); }

void error(const Error& e) {
    nlohmann::json fields = nlohmann::json::object();
    if (!e.json_path().empty()) fields["json_path"] = e.json_path();
    if (e.error_number()) fields["errno"] = e.error_number();
    if (!e.hint().empty()) fields["hint"] = e.hint();
    write_entry(Level::error, e.line(), fields);
}

}  // namespace crunlite::log
