// `checkpoint`: the container's process tree dumped by CRIU into an image directory, then the
// container removed (as runc does) unless --leave-running. A failure leaves the container as
// it was: running (thawed again) or paused.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "criu/container_image.hpp"
#include "criu/criu.hpp"
#include "crunlite/cgroups.hpp"
#include "crunlite/error.hpp"
#include "crunlite/log.hpp"
#include "crunlite/state.hpp"
#include "runtime/criu_options.hpp"
#include "runtime/internal.hpp"

namespace crunlite::runtime {
namespace {

// CRIU freezes the container's cgroup to collect its processes and thaws it when it is done,
// but not when it dies half-way: a container that was running is thawed again whatever happened.
class ThawUnlessPaused {
public:
    ThawUnlessPaused(const std::vector<std::string>& dirs, bool was_paused) : dirs_(dirs), was_paused_(was_paused) {}
    ~ThawUnlessPaused() {
        try {
            if (!was_paused_ && cgroups::is_frozen(dirs_)) cgroups::set_frozen(dirs_, false);
        } catch (const Error& e) {
            log::warning(std::string("checkpoint: thaw the container again: ") + e.what());
        }
    }
    ThawUnlessPaused(const ThawUnlessPaused&) = delete;
    ThawUnlessPaused& operator=(const ThawUnlessPaused&) = delete;

private:
    const std::vector<std::string>& dirs_;
    bool was_paused_;
};

// The directory of the freezer CRIU uses: v1's freezer hierarchy, else the cgroup2 directory.
std::string freezer_dir(const std::vector<std::string>& dirs) {
    for (const std::string& dir : dirs)
        if (::access((dir + "/freezer.state").c_str(), F_OK) == 0) return dir;
    for (const std::string& dir : dirs)
        if (::access((dir + "/cgroup.freeze").c_str(), F_OK) == 0) return dir;
    throw Error("checkpoint: the container's cgroups have no freezer, which CRIU needs to collect its processes");
}

void make_directory(const std::string& path, const std::string& flag) {
    if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) throw Error(flag + " " + path + ": mkdir", errno);
}

}  // namespace

void checkpoint(const std::string& root, const std::string& id, const CheckpointOptions& options) {
    // Killed half-way, checkpoint would leave the container frozen, or dumped and ended but recorded.
    ScopedSignalBlock held_back(ScopedSignalBlock::termination());
    state::StateFile state_file = state::StateFile::open(root, id);
    const state::Record& record = state_file.record();
    state::Status status = state_file.status();
    if (status != state::Status::running && status != state::Status::paused)
        throw Error("checkpoint: container \"" + id + "\" is " + state::status_name(status) + ", not running or paused");
    refuse_rootless_criu_caller("checkpoint");
    if (record.host_root_mount_id || record.host_root_unique_id)
        throw Error("checkpoint: the container has no mount namespace of its own, which CRIU needs", 0,
                    "give the config a \"mount\" entry in .linux.namespaces");
    std::vector<std::string> args = common_criu_args(options);
    for (const std::string& word : dump_memory_args(options)) args.push_back(word);
    // CRIU gets the status descriptor under a number above its stdio, which are crun-lite's
    // pipes (criu::run): a --status-fd of 0-2 would otherwise write into them.
    subprocess::Options criu_options;
    UniqueFd status_fd;
    if (options.lazy_pages && options.status_fd >= 0) {
        status_fd = UniqueFd(::fcntl(options.status_fd, F_DUPFD_CLOEXEC, 3));
        if (!status_fd) throw Error("--status-fd " + std::to_string(options.status_fd), errno);
        args.insert(args.end(), {"--status-fd", std::to_string(status_fd.get())});
        criu_options.pass_fds.push_back(status_fd.get());
    }
    if (auto reason = criu::unusable_reason()) throw Error("checkpoint: " + *reason, 0, "`crun-lite check` says why, too");

    spec::Spec spec = spec::load_bundle(record.bundle);
    std::string image_dir = absolute_path(options.image_path);
    std::string work_dir = options.work_path.empty() ? image_dir : absolute_path(options.work_path);
    make_directory(image_dir, "--image-path");
    make_directory(work_dir, "--work-path");

    for (const std::string& word : {std::string("--tree"), std::to_string(record.pid), std::string("--images-dir"), image_dir,
                                    std::string("--root"), record.rootfs, std::string("--freeze-cgroup"), freezer_dir(record.cgroup_dirs)})
        args.push_back(word);
    if (!options.parent_path.empty()) args.insert(args.end(), {"--prev-images-dir", options.parent_path});
    // Only pages written since a pre-dump go into the next image.
    if (options.pre_dump || !options.parent_path.empty()) args.push_back("--track-mem");
    if (options.leave_running && !options.pre_dump) args.push_back("--leave-running");
    for (const criu::ExternalMount& m : criu::dump_external_mounts(spec, record.pid)) args.insert(args.end(), {"--ext-mount-map", m.arg()});
    for (const std::string& ns : dump_network_args(spec, options)) args.push_back(ns);
    criu::save_descriptors(image_dir, record.pid);
    std::vector<criu::ExternalStdio> stdio_files = criu::external_stdio(record.pid);
    for (const criu::ExternalStdio& f : stdio_files) args.insert(args.end(), {"--external", f.key});
    criu::save_external_stdio(image_dir, stdio_files);

    ThawUnlessPaused thaw(record.cgroup_dirs, status == state::Status::paused);
    // With --lazy-pages this returns once the restore's lazy-pages daemon has taken every page.
    criu::run(options.pre_dump ? "pre-dump" : "dump", args, work_dir, options.pre_dump ? "pre-dump.log" : "dump.log", criu_options);
    if (options.leave_running || options.pre_dump) return;
    // CRIU ended the container's processes after the dump: what is left is delete's work.
    remove_whatever_its_status(state_file);
}

}  // namespace crunlite::runtime
