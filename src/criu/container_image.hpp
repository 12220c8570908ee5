// What a checkpoint image needs beyond CRIU's own files: how the container's mounts that come
// from outside its root are named in the image (CRIU "external" mounts), and what restore needs
// to hand the container its stdio again (descriptors.json, as runc writes it).
#pragma once
#include <string>
#include <vector>

#include "crunlite/spec.hpp"

namespace crunlite::criu {

// One --ext-mount-map KEY:VALUE pair.
struct ExternalMount {
    std::string key, value;
    std::string arg() const { return key + ":" + value; }
};

// The name a masked file (a bind of the host's /dev/null) has in the image.
inline constexpr const char* kMaskedFileName = "/dev/null";

// At dump: the config's bind mounts by their destination, and each masked path that is a file
// in the container (`init_pid`'s root) as kMaskedFileName; what runc gives CRIU.
std::vector<ExternalMount> dump_external_mounts(const spec::Spec& spec, int init_pid);
// At restore: each bind's destination to its source on the host (relative sources against the
// bundle), and kMaskedFileName to the host's /dev/null.
std::vector<ExternalMount> restore_external_mounts(const spec::Spec& spec, const std::string& bundle);

// Before restore: each bind's mount point in the container's root, a directory or an empty file
// as its source is one. An image imported elsewhere comes with a fresh root that lacks them, and
// CRIU only mounts onto what is there (runc makes them too). Binds under a tmpfs of the config
// are left alone: CRIU restores that tmpfs with its contents, mount points included.
void make_bind_mount_points(const spec::Spec& spec, const std::string& bundle);

// descriptors.json in the image directory: what init's descriptors 0, 1 and 2 pointed to at
// dump ("pipe:[1234]", "/dev/null"...), as /proc/<pid>/fd shows them.
inline constexpr const char* kDescriptorsFile = "descriptors.json";
void save_descriptors(const std::string& image_dir, int init_pid);
std::vector<std::string> load_descriptors(const std::string& image_dir);

// Init's stdio descriptors that are files on a mount the container's mount namespace does not show
// (the host's /dev/null of a `run -d < /dev/null`, a log file of the caller): CRIU dumps each as an external
// file, "file[<mnt_id>:<inode>]" (hex), and restore hands the caller's descriptor of the same
// number in its place, as with pipes. Saved beside descriptors.json as {"<fd>": "<key>"}.
inline constexpr const char* kExternalStdioFile = "external-stdio.json";
struct ExternalStdio {
    int fd;
    std::string key;
};
std::vector<ExternalStdio> external_stdio(int init_pid);
void save_external_stdio(const std::string& image_dir, const std::vector<ExternalStdio>& files);
std::vector<ExternalStdio> load_external_stdio(const std::string& image_dir);  // none when the file is missing

}  // namespace crunlite::criu
