// A client of systemd's manager API (org.freedesktop.systemd1) over libdbus-1: the calls the
// cgroup driver makes, each waiting for the job it queues. Runs in the runtime process only.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "cgroups/systemd/unit_properties.hpp"

struct DBusConnection;

namespace crunlite::cgroups::systemd {

class Bus {
public:
    // Root talks to systemd directly over its private socket (/run/systemd/private: no
    // broker hop, and systemd sends every job signal there); others, or when that socket is
    // missing, through the system bus. Throws Error with a hint when neither answers.
    static Bus connect();
    Bus(Bus&&) noexcept;
    Bus& operator=(Bus&&) noexcept;
    ~Bus();

    // What the connection goes through ("systemd's private socket" or "the system bus").
    const std::string& route() const { return route_; }

    // StartTransientUnit(unit, "fail", properties) and the wait for its job. When a unit of
    // that name is left over in the "failed" state it is reset and started again.
    void start_transient_unit(const std::string& unit, const std::vector<UnitProperty>& properties);
    // StopUnit and the wait for its job. False when no such unit is loaded.
    bool stop_unit(const std::string& unit);
    // ResetFailedUnit; a unit that is gone or not failed is no error.
    void reset_failed_unit(const std::string& unit);
    // SetUnitProperties(unit, runtime = true, properties).
    void set_unit_properties(const std::string& unit, const std::vector<UnitProperty>& properties);
    // The manager's Version property ("252.38-1~deb12u1"): proves systemd answers.
    std::string version();

private:
    explicit Bus(DBusConnection* connection, std::string route, bool broker);
    void wait_for_job(const std::string& job_path, const std::string& what);
    DBusConnection* connection_ = nullptr;
    std::string route_;
    bool broker_ = false;  // the system bus: signals need a match rule
};

}  // namespace crunlite::cgroups::systemd
