#include "criu/criu.hpp"

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "crunlite/error.hpp"

namespace crunlite::criu {
namespace {

bool is_error_line(const std::string& line) {
    return line.find("Error (") != std::string::npos || line.rfind("Error", 0) == 0 ||
           line.find(") Error") != std::string::npos;
}

// "(00.012345) Error (criu/foo.c:12): text" -> "text": the source position says nothing to a
// user, and the log (named in the hint) still has it.
std::string message_of(const std::string& line) {
    std::string text = line;
    if (text.rfind("(", 0) == 0) {
        size_t close = text.find(") ");
        if (close != std::string::npos) text = text.substr(close + 2);
    }
    if (text.rfind("Error (", 0) == 0) {
        size_t colon = text.find("): ");
        if (colon != std::string::npos) text = text.substr(colon + 3);
    }
    return text;
}

std::string read_whole(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

std::string program() {
    const char* chosen = std::getenv("CRUN_LITE_CRIU");
    return chosen && *chosen ? chosen : "criu";
}

std::string decisive_error(const std::string& log) {
    std::istringstream lines(log);
    // Errors a few lines apart are one cluster: CRIU logs a line or two of context between the
    // cause and what failed because of it.
    constexpr int kLinesApart = 3;
    std::string line, first_of_cluster, decisive;
    int since_error = kLinesApart + 1;
    while (std::getline(lines, line)) {
        // "Dumping FAILED." and the like close every failed run: a summary, never the cause.
        bool summary = line.size() >= 7 && line.compare(line.size() - 7, 7, "FAILED.") == 0;
        if (summary) continue;
        if (!is_error_line(line)) {
            ++since_error;
            continue;
        }
        if (since_error > kLinesApart) first_of_cluster = message_of(line);
        since_error = 0;
        decisive = first_of_cluster;
    }
    return decisive;
}

std::optional<std::string> unusable_reason() {
    static const std::optional<std::string> reason = []() -> std::optional<std::string> {
        subprocess::Options options;
        options.capture_stdout = options.capture_stderr = true;
        options.timeout_seconds = 30;
        options.new_process_group = true;
        subprocess::Result r = subprocess::run({program(), "check"}, options);
        if (r.succeeded()) return std::nullopt;
        if (WIFEXITED(r.status) && WEXITSTATUS(r.status) == 127)
            return "CRIU is not installed (no " + program() + " to run; apt-get install criu, or set CRUN_LITE_CRIU)";
        std::string line = decisive_error(r.output);
        if (line.empty()) line = "`" + program() + " check` " + subprocess::describe_exit(r.status);
        return "CRIU does not work on this host: " + line;
    }();
    return reason;
}

void run(const std::string& action, const std::vector<std::string>& args, const std::string& work_dir,
         const std::string& log_name, subprocess::Options options) {
    std::vector<std::string> argv = {program(), action};
    argv.insert(argv.end(), args.begin(), args.end());
    for (const char* word : {"--work-dir", work_dir.c_str(), "-o", log_name.c_str(), "-v4"}) argv.push_back(word);
    options.capture_stdout = options.capture_stderr = true;
    options.new_process_group = true;
    subprocess::Result r = subprocess::run(argv, options);
    if (r.succeeded()) return;
    std::string log_path = work_dir + "/" + log_name;
    std::string line = decisive_error(read_whole(log_path));
    if (line.empty()) line = decisive_error(r.output);
    if (line.empty()) {
        std::string output = r.output;
        while (!output.empty() && output.back() == '\n') output.pop_back();
        line = output.empty() ? program() + " " + subprocess::describe_exit(r.status) : output.substr(output.rfind('\n') + 1);
    }
    throw Error("criu " + action + " failed: " + line, 0, "CRIU's log is " + log_path);
}

}  // namespace crunlite::criu
