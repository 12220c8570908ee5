#include "cgroups/systemd/bus.hpp"

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <initializer_list>
#include <dbus/dbus.h>

#include "crunlite/error.hpp"
#include "crunlite/log.hpp"
#include "sys/user_namespace.hpp"

namespace crunlite::cgroups::systemd {
namespace {

constexpr const char* kService = "org.freedesktop.systemd1";
constexpr const char* kPath = "/org/freedesktop/systemd1";
constexpr const char* kManager = "org.freedesktop.systemd1.Manager";
constexpr const char* kPrivateSocket = "/run/systemd/private";
// systemd answers in milliseconds; a job waits for the unit's start, which for a scope is a
// cgroup and a move of the pids. runc waits 30 s as well.
constexpr int kTimeoutMs = 30000;

struct ErrorGuard {
    DBusError error;
    ErrorGuard() { dbus_error_init(&error); }
    ~ErrorGuard() { dbus_error_free(&error); }
    bool is(const char* name) const { return dbus_error_has_name(&error, name); }
    std::string text() const { return std::string(error.name ? error.name : "") + ": " + (error.message ? error.message : ""); }
};

struct MessageDeleter {
    void operator()(DBusMessage* m) const { dbus_message_unref(m); }
};
using Message = std::unique_ptr<DBusMessage, MessageDeleter>;

Message method_call(const char* method) {
    Message m(dbus_message_new_method_call(kService, kPath, kManager, method));
    if (!m) throw std::bad_alloc();
    return m;
}

void append_basic(DBusMessageIter* it, int type, const void* value) {
    if (!dbus_message_iter_append_basic(it, type, value)) throw std::bad_alloc();
}

void append_string(DBusMessageIter* it, const std::string& s) {
    const char* p = s.c_str();
    append_basic(it, DBUS_TYPE_STRING, &p);
}

// One (sv) of a property array.
void append_property(DBusMessageIter* array, const UnitProperty& property) {
    DBusMessageIter entry, variant, items;
    dbus_message_iter_open_container(array, DBUS_TYPE_STRUCT, nullptr, &entry);
    append_string(&entry, property.name);
    std::visit(
        [&](auto&& v) {
            using T = std::decay_t<decltype(v)>;
            auto basic = [&](const char* signature, int type, const void* value) {
                dbus_message_iter_open_container(&entry, DBUS_TYPE_VARIANT, signature, &variant);
                append_basic(&variant, type, value);
            };
            if constexpr (std::is_same_v<T, bool>) {
                dbus_bool_t b = v;
                basic("b", DBUS_TYPE_BOOLEAN, &b);
            } else if constexpr (std::is_same_v<T, uint8_t>) basic("y", DBUS_TYPE_BYTE, &v);
            else if constexpr (std::is_same_v<T, int16_t>) basic("n", DBUS_TYPE_INT16, &v);
            else if constexpr (std::is_same_v<T, uint16_t>) basic("q", DBUS_TYPE_UINT16, &v);
            else if constexpr (std::is_same_v<T, int32_t>) basic("i", DBUS_TYPE_INT32, &v);
            else if constexpr (std::is_same_v<T, uint32_t>) basic("u", DBUS_TYPE_UINT32, &v);
            else if constexpr (std::is_same_v<T, int64_t>) basic("x", DBUS_TYPE_INT64, &v);
            else if constexpr (std::is_same_v<T, uint64_t>) basic("t", DBUS_TYPE_UINT64, &v);
            else if constexpr (std::is_same_v<T, double>) basic("d", DBUS_TYPE_DOUBLE, &v);
            else if constexpr (std::is_same_v<T, std::string>) {
                const char* p = v.c_str();
                basic("s", DBUS_TYPE_STRING, &p);
            } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
                dbus_message_iter_open_container(&entry, DBUS_TYPE_VARIANT, "as", &variant);
                dbus_message_iter_open_container(&variant, DBUS_TYPE_ARRAY, "s", &items);
                for (auto& s : v) append_string(&items, s);
                dbus_message_iter_close_container(&variant, &items);
            } else if constexpr (std::is_same_v<T, std::vector<uint32_t>>) {
                dbus_message_iter_open_container(&entry, DBUS_TYPE_VARIANT, "au", &variant);
                dbus_message_iter_open_container(&variant, DBUS_TYPE_ARRAY, "u", &items);
                for (uint32_t n : v) append_basic(&items, DBUS_TYPE_UINT32, &n);
                dbus_message_iter_close_container(&variant, &items);
            } else {  // std::vector<uint8_t>: a byte array in one piece
                dbus_message_iter_open_container(&entry, DBUS_TYPE_VARIANT, "ay", &variant);
                dbus_message_iter_open_container(&variant, DBUS_TYPE_ARRAY, "y", &items);
                const uint8_t* data = v.data();
                if (!dbus_message_iter_append_fixed_array(&items, DBUS_TYPE_BYTE, &data, int(v.size()))) throw std::bad_alloc();
                dbus_message_iter_close_container(&variant, &items);
            }
        },
        property.value);
    dbus_message_iter_close_container(&entry, &variant);
    dbus_message_iter_close_container(array, &entry);
}

void append_properties(DBusMessageIter* it, const std::vector<UnitProperty>& properties) {
    DBusMessageIter array;
    dbus_message_iter_open_container(it, DBUS_TYPE_ARRAY, "(sv)", &array);
    for (auto& p : properties) append_property(&array, p);
    dbus_message_iter_close_container(it, &array);
}

std::string first_object_path(DBusMessage* reply) {
    DBusMessageIter it;
    const char* path = nullptr;
    if (dbus_message_iter_init(reply, &it) && dbus_message_iter_get_arg_type(&it) == DBUS_TYPE_OBJECT_PATH)
        dbus_message_iter_get_basic(&it, &path);
    return path ? path : "";
}

// A manager method whose arguments are strings (a unit name, a mode), sent and answered; null
// with `error` set when systemd answered with an error.
Message call_with_strings(DBusConnection* connection, const char* method, std::initializer_list<std::string> args, ErrorGuard& error) {
    Message call = method_call(method);
    DBusMessageIter it;
    dbus_message_iter_init_append(call.get(), &it);
    for (auto& a : args) append_string(&it, a);
    return Message(dbus_connection_send_with_reply_and_block(connection, call.get(), kTimeoutMs, &error.error));
}

const char* kHint = "is systemd PID 1 here? `systemctl is-system-running` tells; without systemd, leave out --systemd-cgroup";

// libdbus authenticates lazily and sends its BEGIN and the first call in two writes. systemd 252
// (sd-bus as a server) leaves a call that reaches it in the same read as BEGIN undispatched until
// more bytes arrive: a delete's StopUnit, sent right after connecting, then waited 30 s for no
// reply (seen in the systemd guest). A Ping answered proves that systemd reads the connection.
// An unanswered one is followed by another, 2 ms later at first, then with waits that double up
// to kLongestPingWaitMs: the first Ping that arrives after systemd read BEGIN dispatches every one
// before it. A busy systemd (in a daemon-reload) answers late, within kTimeoutMs in all.
constexpr int kLongestPingWaitMs = 1000;

void confirm_dispatching(DBusConnection* connection, const std::string& route) {
    int wait_ms = 2;
    for (int waited_ms = 0; waited_ms < kTimeoutMs;) {
        wait_ms = std::min({wait_ms, kLongestPingWaitMs, kTimeoutMs - waited_ms});
        Message ping(dbus_message_new_method_call(kService, kPath, "org.freedesktop.DBus.Peer", "Ping"));
        if (!ping) throw std::bad_alloc();
        ErrorGuard error;
        Message reply(dbus_connection_send_with_reply_and_block(connection, ping.get(), wait_ms, &error.error));
        if (reply) return;
        if (!error.is(DBUS_ERROR_NO_REPLY)) throw Error("--systemd-cgroup: " + route + ": " + error.text(), 0, kHint);
        waited_ms += wait_ms;
        wait_ms *= 2;
    }
    throw Error("--systemd-cgroup: " + route + " does not answer (no reply to Ping within " + std::to_string(kTimeoutMs / 1000) + " s)", 0, kHint);
}

}  // namespace

Bus::Bus(DBusConnection* connection, std::string route, bool broker)
    : connection_(connection), route_(std::move(route)), broker_(broker) {}

Bus::Bus(Bus&& other) noexcept : connection_(other.connection_), route_(std::move(other.route_)), broker_(other.broker_) {
    other.connection_ = nullptr;
}

Bus& Bus::operator=(Bus&& other) noexcept {
    std::swap(connection_, other.connection_);
    std::swap(route_, other.route_);
    std::swap(broker_, other.broker_);
    return *this;
}

Bus::~Bus() {
    if (!connection_) return;
    dbus_connection_close(connection_);
    dbus_connection_unref(connection_);
}

Bus Bus::connect(Manager manager) {
    if (::access("/run/systemd/system", F_OK) != 0)
        throw Error("--systemd-cgroup: systemd is not running on this host (/run/systemd/system is missing)", 0,
                    "use cgroupfs paths: leave out --systemd-cgroup");
    if (manager == Manager::user) return connect_user();
    ErrorGuard error;
    if (::geteuid() == 0 && ::access(kPrivateSocket, F_OK) == 0) {
        DBusConnection* c = dbus_connection_open_private((std::string("unix:path=") + kPrivateSocket).c_str(), &error.error);
        if (c) {
            dbus_connection_set_exit_on_disconnect(c, FALSE);
            Bus bus(c, "systemd's private socket", false);
            confirm_dispatching(c, bus.route_);
            return bus;
        }
        log::debug("systemd's private socket: " + error.text() + "; trying the system bus");
        dbus_error_free(&error.error);
    }
    DBusConnection* c = dbus_bus_get_private(DBUS_BUS_SYSTEM, &error.error);
    if (!c) throw Error("--systemd-cgroup: cannot connect to the system bus (" + error.text() + ")", 0, kHint);
    dbus_connection_set_exit_on_disconnect(c, FALSE);
    Bus bus(c, "the system bus", true);
    bus.ask_for_job_signals();
    return bus;
}

namespace {

std::string escaped_address_value(const std::string& value) {
    char* escaped = dbus_address_escape_value(value.c_str());
    if (!escaped) throw std::bad_alloc();
    std::string text(escaped);
    dbus_free(escaped);
    return text;
}

}  // namespace

Bus Bus::connect_user() {
    constexpr const char* kUserHint =
        "the user's systemd (user@UID.service) must run, with $XDG_RUNTIME_DIR set (loginctl enable-linger USER starts it "
        "without a login); or leave out --systemd-cgroup";
    const char* runtime_dir = ::getenv("XDG_RUNTIME_DIR");
    if (!runtime_dir || !*runtime_dir)
        throw Error("--systemd-cgroup as a rootless user: XDG_RUNTIME_DIR is not set, so the user's systemd cannot be found", 0, kUserHint);
    const std::string socket = std::string(runtime_dir) + "/systemd/private";
    const std::string socket_address = "unix:path=" + escaped_address_value(socket);
    std::string address = socket_address, route = "the user's systemd (" + socket + ")";
    if (sys::in_user_namespace()) {
        const char* bridge = nullptr;
        for (const char* candidate : {"/usr/bin/systemd-stdio-bridge", "/bin/systemd-stdio-bridge", "/usr/lib/systemd/systemd-stdio-bridge"})
            if (::access(candidate, X_OK) == 0) {
                bridge = candidate;
                break;
            }
        if (!bridge)
            throw Error("--systemd-cgroup in a user namespace: systemd-stdio-bridge (systemd's package) is not installed", 0,
                        "install systemd, or leave out --systemd-cgroup");
        // The bridge's own connection goes to the same socket; it speaks for us on it.
        address = std::string("unixexec:path=") + escaped_address_value(bridge) + ",argv1=" +
                  escaped_address_value("--bus-path=" + socket_address);
        route += " through " + std::string(bridge);
    }
    ErrorGuard error;
    DBusConnection* c = dbus_connection_open_private(address.c_str(), &error.error);
    if (!c) throw Error("--systemd-cgroup: cannot connect to " + route + " (" + error.text() + ")", 0, kUserHint);
    dbus_connection_set_exit_on_disconnect(c, FALSE);
    Bus bus(c, route, false);
    confirm_dispatching(c, bus.route_);
    return bus;
}

// Job signals reach a bus client that asked for them.
void Bus::ask_for_job_signals() {
    ErrorGuard error;
    dbus_bus_add_match(connection_, "type='signal',sender='org.freedesktop.systemd1',interface='org.freedesktop.systemd1.Manager',"
                                    "member='JobRemoved',path='/org/freedesktop/systemd1'",
                       &error.error);
    if (dbus_error_is_set(&error.error)) throw Error("--systemd-cgroup: " + route_ + ": " + error.text(), 0, kHint);
}

void Bus::wait_for_job(const std::string& job_path, const std::string& what) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kTimeoutMs);
    for (;;) {
        while (DBusMessage* raw = dbus_connection_pop_message(connection_)) {
            Message message(raw);
            if (!dbus_message_is_signal(raw, kManager, "JobRemoved")) continue;
            dbus_uint32_t id = 0;
            const char *job = nullptr, *unit = nullptr, *result = nullptr;
            ErrorGuard error;
            if (!dbus_message_get_args(raw, &error.error, DBUS_TYPE_UINT32, &id, DBUS_TYPE_OBJECT_PATH, &job, DBUS_TYPE_STRING,
                                       &unit, DBUS_TYPE_STRING, &result, DBUS_TYPE_INVALID))
                continue;
            if (job_path != job) continue;
            if (std::string(result) == "done") return;
            throw Error(what + ": systemd's job ended \"" + result + "\"", 0,
                        "`journalctl -u " + std::string(unit) + "` and `systemctl status " + unit + "` say why");
        }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
        if (left <= 0) throw Error(what + ": systemd did not finish the job within " + std::to_string(kTimeoutMs / 1000) + " s");
        if (!dbus_connection_read_write(connection_, int(left)))
            throw Error(what + ": the connection to systemd (" + route_ + ") closed");
    }
}

void Bus::start_transient_unit(const std::string& unit, const std::vector<UnitProperty>& properties,
                               const std::function<void()>& on_queued) {
    for (int attempt = 0;; ++attempt) {
        Message call = method_call("StartTransientUnit");
        DBusMessageIter it, aux;
        dbus_message_iter_init_append(call.get(), &it);
        append_string(&it, unit);
        append_string(&it, "fail");
        append_properties(&it, properties);
        dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "(sa(sv))", &aux);
        dbus_message_iter_close_container(&it, &aux);
        ErrorGuard error;
        Message reply(dbus_connection_send_with_reply_and_block(connection_, call.get(), kTimeoutMs, &error.error));
        if (reply) {
            if (on_queued) on_queued();
            wait_for_job(first_object_path(reply.get()), "start systemd unit " + unit);
            return;
        }
        // A unit of the same name left "failed" by an earlier container (one whose delete never
        // came) blocks the name until it is reset.
        if (error.is("org.freedesktop.systemd1.UnitExists") && attempt == 0) {
            reset_failed_unit(unit);
            continue;
        }
        throw Error("start systemd unit " + unit + " (StartTransientUnit): " + error.text(), 0,
                    error.is("org.freedesktop.systemd1.UnitExists")
                        ? "a unit of this name is running: another container with the same .linux.cgroupsPath?"
                        : "");
    }
}

bool Bus::stop_unit(const std::string& unit) {
    ErrorGuard error;
    Message reply = call_with_strings(connection_, "StopUnit", {unit, "replace"}, error);
    if (!reply) {
        if (error.is("org.freedesktop.systemd1.NoSuchUnit")) return false;
        throw Error("stop systemd unit " + unit + " (StopUnit): " + error.text());
    }
    wait_for_job(first_object_path(reply.get()), "stop systemd unit " + unit);
    return true;
}

void Bus::reset_failed_unit(const std::string& unit) {
    ErrorGuard error;
    Message reply = call_with_strings(connection_, "ResetFailedUnit", {unit}, error);
    if (!reply && !error.is("org.freedesktop.systemd1.NoSuchUnit") && !error.is("org.freedesktop.systemd1.UnitNotFailed") &&
        !error.is("org.freedesktop.systemd1.NotFailed"))
        log::debug("reset-failed of " + unit + ": " + error.text());
}

void Bus::set_unit_properties(const std::string& unit, const std::vector<UnitProperty>& properties) {
    if (properties.empty()) return;
    Message call = method_call("SetUnitProperties");
    DBusMessageIter it;
    dbus_message_iter_init_append(call.get(), &it);
    append_string(&it, unit);
    dbus_bool_t runtime = TRUE;  // until reboot, like the unit itself
    append_basic(&it, DBUS_TYPE_BOOLEAN, &runtime);
    append_properties(&it, properties);
    ErrorGuard error;
    Message reply(dbus_connection_send_with_reply_and_block(connection_, call.get(), kTimeoutMs, &error.error));
    if (!reply) throw Error("set the properties of systemd unit " + unit + " (SetUnitProperties): " + error.text());
}

std::string Bus::version() { return manager_string_property("Version"); }

std::string Bus::control_group() { return manager_string_property("ControlGroup"); }

std::string Bus::manager_string_property(const char* name) {
    Message call(dbus_message_new_method_call(kService, kPath, "org.freedesktop.DBus.Properties", "Get"));
    if (!call) throw std::bad_alloc();
    DBusMessageIter it;
    dbus_message_iter_init_append(call.get(), &it);
    append_string(&it, kManager);
    append_string(&it, name);
    ErrorGuard error;
    Message reply(dbus_connection_send_with_reply_and_block(connection_, call.get(), kTimeoutMs, &error.error));
    if (!reply) throw Error(std::string("ask systemd (") + route_ + ") for its " + name + ": " + error.text(), 0, kHint);
    DBusMessageIter variant;
    const char* value = nullptr;
    if (dbus_message_iter_init(reply.get(), &it) && dbus_message_iter_get_arg_type(&it) == DBUS_TYPE_VARIANT) {
        dbus_message_iter_recurse(&it, &variant);
        if (dbus_message_iter_get_arg_type(&variant) == DBUS_TYPE_STRING) dbus_message_iter_get_basic(&variant, &value);
    }
    return value ? value : "";
}

}  // namespace crunlite::cgroups::systemd
