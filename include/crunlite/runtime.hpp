// The lifecycle operations behind the runc-compatible commands. The CLI layer only parses
// flags and calls one of these.
#pragma once
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "crunlite/spec_version.hpp"

namespace crunlite::runtime {

constexpr const char* kDefaultRoot = "/run/crun-lite";
constexpr const char* kSpecVersion = spec::kSpecVersion;  // the one version crun-lite implements (spec_version.hpp)

struct CreateOptions {
    std::string bundle = ".";
    std::string pid_file;
    std::string console_socket;
    std::string pidfd_socket;  // receives a pidfd of init (SCM_RIGHTS), as runc's --pidfd-socket
    bool no_pivot = false;
    bool no_new_keyring = false;
    unsigned preserve_fds = 0;
    bool systemd_cgroup = false;  // --systemd-cgroup: the cgroup is a systemd unit (cgroupsPath slice:prefix:name)
};

struct ExecOptions {
    std::string process_file;  // --process: a runtime-spec process object; other flags are then ignored
    std::vector<std::string> args;
    std::string cwd;
    std::vector<std::string> env;
    bool tty = false;
    std::string user;  // UID[:GID]
    std::vector<uint32_t> additional_gids;
    std::vector<std::string> capabilities;
    bool no_new_privs = false;
    bool detach = false;
    std::string pid_file;
    std::string console_socket;
    std::string pidfd_socket;  // receives a pidfd of the process (SCM_RIGHTS)
    // --cgroup: a sub-cgroup of the container's to run in, "PATH" (every hierarchy) or
    // "CONTROLLER[,CONTROLLER...]:PATH" (those v1 controllers), as runc takes them.
    std::vector<std::string> sub_cgroups;
    unsigned preserve_fds = 0;
    bool ignore_paused = false;
    std::string apparmor_profile;  // --apparmor
    std::string process_label;     // --process-label (SELinux)
};

// Sets the container up with its init blocked on exec.fifo; returns init's pid.
int create(const std::string& root, const std::string& id, const CreateOptions& options);
void start(const std::string& root, const std::string& id);
// create + start; in the foreground, forwards signals and returns the exit status
// (128+N when killed by signal N), deleting the container unless `keep`.
int run(const std::string& root, const std::string& id, const CreateOptions& options, bool detach, bool keep);
// `update`: new limits for a running container (what `update --resources` reads, merged
// with the flags by the CLI); `json_path` names the source in errors.
void update(const std::string& root, const std::string& id, const nlohmann::json& resources, const std::string& json_path);

// Runs a new process in a running container; in the foreground returns its exit status.
int exec(const std::string& root, const std::string& id, const ExecOptions& options);
nlohmann::json state(const std::string& root, const std::string& id);
void kill(const std::string& root, const std::string& id, int signal, bool all);
void remove(const std::string& root, const std::string& id, bool force);
std::vector<nlohmann::json> list(const std::string& root);
void pause(const std::string& root, const std::string& id);
void resume(const std::string& root, const std::string& id);
// Host pids of every process in the container's cgroup.
std::vector<int> pids(const std::string& root, const std::string& id);
// `events`: one stats event (`--stats`), or stats every `interval_ms` plus an "oom" event
// whenever the OOM killer strikes, until the container stops. Writes JSON lines to `out`.
void events(const std::string& root, const std::string& id, bool stats_once, int interval_ms, std::ostream& out);

// The runtime-spec "features" document for this build.
nlohmann::json features();
// What this build was compiled with, as `--version` prints it: "+CAP +SECCOMP ..." (only what it has).
std::string compiled_features();

// "KILL", "SIGKILL", "kill" or "9" -> 9; throws on anything else.
int parse_signal(const std::string& text);

}  // namespace crunlite::runtime
