// A client of systemd's manager API (org.freedesktop.systemd1) over libdbus-1: the calls the
// cgroup driver makes, each waiting for the job it queues. Runs in the runtime process only.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cgroups/systemd/unit_properties.hpp"

struct DBusConnection;

namespace crunlite::cgroups::systemd {

// Which systemd: the host's (PID 1), or the user's own instance (user@UID.service), which a
// rootless caller asks for, as runc and crun do.
enum class Manager { system, user };

class Bus {
public:
    // The system manager: root talks to it directly over its private socket
    // (/run/systemd/private: no broker hop, and systemd sends every job signal there); others, or
    // when that socket is missing, through the system bus.
    // The user manager: over $XDG_RUNTIME_DIR/systemd/private. Inside a user namespace that
    // socket refuses libdbus, which claims the namespace's uid in its EXTERNAL handshake while
    // the kernel shows systemd the host's; the connection then goes through systemd's own
    // systemd-stdio-bridge (libdbus's unixexec: transport), whose sd-bus lets the kernel's
    // credentials speak. Throws Error with a hint when nothing answers.
    static Bus connect(Manager manager = Manager::system);
    Bus(Bus&&) noexcept;
    Bus& operator=(Bus&&) noexcept;
    ~Bus();

    // What the connection goes through ("systemd's private socket" or "the system bus").
    const std::string& route() const { return route_; }

    // StartTransientUnit(unit, "fail", properties) and the wait for its job. When a unit of
    // that name is left over in the "failed" state it is reset and started again. on_queued runs
    // once systemd took the call (the unit is the caller's from then on), before the wait.
    void start_transient_unit(const std::string& unit, const std::vector<UnitProperty>& properties,
                              const std::function<void()>& on_queued = {});
    // StopUnit and the wait for its job. False when no such unit is loaded.
    bool stop_unit(const std::string& unit);
    // ResetFailedUnit; a unit that is gone or not failed is no error.
    void reset_failed_unit(const std::string& unit);
    // SetUnitProperties(unit, runtime = true, properties).
    void set_unit_properties(const std::string& unit, const std::vector<UnitProperty>& properties);
    // The manager's Version property ("252.38-1~deb12u1"): proves systemd answers.
    std::string version();
    // The manager's ControlGroup property: where its units' cgroups are, "" for the host's
    // (the root) and "/user.slice/user-1000.slice/user@1000.service" for a user's.
    std::string control_group();

private:
    explicit Bus(DBusConnection* connection, std::string route, bool broker);
    static Bus connect_user();
    void ask_for_job_signals();
    std::string manager_string_property(const char* name);
    void wait_for_job(const std::string& job_path, const std::string& what);
    DBusConnection* connection_ = nullptr;
    std::string route_;
    bool broker_ = false;  // the system bus: signals need a match rule
};

}  // namespace crunlite::cgroups::systemd
