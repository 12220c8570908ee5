// parse_mount_options / parse_propagation: a config.json mount's "options" list turned into
// mount attributes (MOUNT_ATTR_*), propagation (MS_*) and filesystem options for fsconfig.
#include <gtest/gtest.h>
#include <sys/mount.h>

#include <string>
#include <utility>
#include <vector>

#include "crunlite/spec.hpp"
#include "plan/mount_options.hpp"
#include "test_util.hpp"

namespace crunlite::planning {
namespace {

using test::ThrowsSpecError;
using FsOptions = std::vector<std::pair<std::string, std::string>>;

const std::string kPath = ".mounts[3].options";

MountOptions parse(const std::vector<std::string>& options, const std::string& type = "tmpfs") {
    return parse_mount_options(options, type, kPath);
}

// ---------------------------------------------------------------------------------------------
// Per-mount attributes

TEST(MountOptions, EmptyListSetsNothing) {
    MountOptions o = parse({});
    EXPECT_FALSE(o.bind);
    EXPECT_FALSE(o.recursive_bind);
    EXPECT_EQ(o.attr_set, 0u);
    EXPECT_EQ(o.attr_clear, 0u);
    EXPECT_EQ(o.recursive_attr_set, 0u);
    EXPECT_EQ(o.recursive_attr_clear, 0u);
    EXPECT_EQ(o.propagation, 0u);
    EXPECT_TRUE(o.fs_options.empty());
}

TEST(MountOptions, RoSetsAndRwClearsReadOnly) {
    MountOptions ro = parse({"ro"});
    EXPECT_EQ(ro.attr_set, uint64_t(MOUNT_ATTR_RDONLY));
    EXPECT_EQ(ro.attr_clear, 0u);
    MountOptions rw = parse({"rw"});
    EXPECT_EQ(rw.attr_set, 0u);
    EXPECT_EQ(rw.attr_clear, uint64_t(MOUNT_ATTR_RDONLY));
    EXPECT_TRUE(rw.fs_options.empty());
}

TEST(MountOptions, LastOfRoAndRwWins) {
    MountOptions a = parse({"ro", "rw"});
    EXPECT_EQ(a.attr_set & MOUNT_ATTR_RDONLY, 0u);
    EXPECT_EQ(a.attr_clear & MOUNT_ATTR_RDONLY, uint64_t(MOUNT_ATTR_RDONLY));
    MountOptions b = parse({"rw", "ro"});
    EXPECT_EQ(b.attr_set & MOUNT_ATTR_RDONLY, uint64_t(MOUNT_ATTR_RDONLY));
    EXPECT_EQ(b.attr_clear & MOUNT_ATTR_RDONLY, 0u);
}

TEST(MountOptions, NosuidNodevNoexecAndTheirOpposites) {
    MountOptions set = parse({"nosuid", "nodev", "noexec", "nodiratime", "nosymfollow"});
    EXPECT_EQ(set.attr_set, uint64_t(MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
                                     MOUNT_ATTR_NODIRATIME | MOUNT_ATTR_NOSYMFOLLOW));
    EXPECT_EQ(set.attr_clear, 0u);
    MountOptions clear = parse({"suid", "dev", "exec", "diratime", "symfollow"});
    EXPECT_EQ(clear.attr_set, 0u);
    EXPECT_EQ(clear.attr_clear, uint64_t(MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
                                         MOUNT_ATTR_NODIRATIME | MOUNT_ATTR_NOSYMFOLLOW));
    MountOptions last = parse({"nosuid", "suid"});
    EXPECT_EQ(last.attr_set & MOUNT_ATTR_NOSUID, 0u);
    EXPECT_NE(last.attr_clear & MOUNT_ATTR_NOSUID, 0u);
}

// ---------------------------------------------------------------------------------------------
// Access time: one field, so setting a mode clears the whole MOUNT_ATTR__ATIME mask.

TEST(MountOptions, AtimeModes) {
    MountOptions noatime = parse({"noatime"});
    EXPECT_EQ(noatime.attr_set & MOUNT_ATTR__ATIME, uint64_t(MOUNT_ATTR_NOATIME));
    EXPECT_EQ(noatime.attr_clear & MOUNT_ATTR__ATIME, uint64_t(MOUNT_ATTR__ATIME));
    MountOptions strict = parse({"strictatime"});
    EXPECT_EQ(strict.attr_set & MOUNT_ATTR__ATIME, uint64_t(MOUNT_ATTR_STRICTATIME));
    EXPECT_EQ(strict.attr_clear & MOUNT_ATTR__ATIME, uint64_t(MOUNT_ATTR__ATIME));
    MountOptions relatime = parse({"relatime"});
    EXPECT_EQ(relatime.attr_set & MOUNT_ATTR__ATIME, uint64_t(MOUNT_ATTR_RELATIME));
    EXPECT_EQ(relatime.attr_clear & MOUNT_ATTR__ATIME, uint64_t(MOUNT_ATTR__ATIME));
    EXPECT_TRUE(relatime.fs_options.empty());
}

TEST(MountOptions, LaterAtimeModeReplacesEarlier) {
    MountOptions o = parse({"noatime", "strictatime"});
    EXPECT_EQ(o.attr_set & MOUNT_ATTR__ATIME, uint64_t(MOUNT_ATTR_STRICTATIME));
    MountOptions p = parse({"strictatime", "relatime"});
    EXPECT_EQ(p.attr_set & MOUNT_ATTR__ATIME, uint64_t(MOUNT_ATTR_RELATIME));
}

TEST(MountOptions, AtimeModeDoesNotTouchOtherAttributes) {
    MountOptions o = parse({"ro", "nosuid", "noatime"});
    EXPECT_EQ(o.attr_set, uint64_t(MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOATIME));
}

// mount(8) and runc treat "atime" as the opposite of "noatime" (runc: "atime" clears
// MS_NOATIME), with the last option winning; crun-lite ignores "atime", so
// ["noatime", "atime"] still mounts noatime.
TEST(MountOptions, AtimeAfterNoatimeUndoesIt) {
    MountOptions o = parse({"noatime", "atime"});
    EXPECT_EQ(o.attr_set & MOUNT_ATTR_NOATIME, 0u);
}

TEST(MountOptions, DefaultsAndNoOpOptionsAreIgnored) {
    MountOptions o = parse({"defaults", "async", "loud", "nomand", "noiversion", "nolazytime"});
    EXPECT_EQ(o.attr_set, 0u);
    EXPECT_EQ(o.attr_clear, 0u);
    EXPECT_TRUE(o.fs_options.empty());
}

// ---------------------------------------------------------------------------------------------
// Recursive attributes: "rro", "rnosuid"... (runc 1.1+, mount_setattr with AT_RECURSIVE)

TEST(MountOptions, RecursiveAttributesGoToTheRecursiveFields) {
    MountOptions o = parse({"rro", "rnosuid", "rnodev", "rnoexec"}, "bind");
    EXPECT_EQ(o.recursive_attr_set, uint64_t(MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC));
    EXPECT_EQ(o.attr_set, 0u);
    EXPECT_EQ(o.recursive_attr_clear, 0u);
    EXPECT_TRUE(o.fs_options.empty());
}

TEST(MountOptions, RecursiveClearingAttributes) {
    MountOptions o = parse({"rrw", "rsuid", "rexec", "rdev"}, "bind");
    EXPECT_EQ(o.recursive_attr_clear, uint64_t(MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NODEV));
    EXPECT_EQ(o.recursive_attr_set, 0u);
    EXPECT_EQ(o.attr_clear, 0u);
}

TEST(MountOptions, RecursiveAtime) {
    MountOptions o = parse({"rnoatime"}, "bind");
    EXPECT_EQ(o.recursive_attr_set & MOUNT_ATTR__ATIME, uint64_t(MOUNT_ATTR_NOATIME));
    EXPECT_EQ(o.recursive_attr_clear & MOUNT_ATTR__ATIME, uint64_t(MOUNT_ATTR__ATIME));
    EXPECT_EQ(o.attr_set, 0u);
    EXPECT_EQ(o.attr_clear, 0u);
    // "relatime" starts with "r" but is the non-recursive atime mode.
    MountOptions rel = parse({"relatime"});
    EXPECT_EQ(rel.recursive_attr_clear, 0u);
    EXPECT_EQ(rel.attr_clear & MOUNT_ATTR__ATIME, uint64_t(MOUNT_ATTR__ATIME));
}

// "ratime", "rnorelatime", "rnostrictatime" (runc's recursive forms, listed by `features`): the
// kernel's default mode again on the whole tree, never filesystem data.
TEST(MountOptions, RecursiveDefaultAtime) {
    for (const char* opt : {"ratime", "rnorelatime", "rnostrictatime"}) {
        MountOptions o = parse({"rnoatime", opt}, "bind");
        EXPECT_EQ(o.recursive_attr_set & MOUNT_ATTR__ATIME, uint64_t(MOUNT_ATTR_RELATIME)) << opt;
        EXPECT_EQ(o.recursive_attr_clear & MOUNT_ATTR__ATIME, uint64_t(MOUNT_ATTR__ATIME)) << opt;
        EXPECT_TRUE(o.ignored_on_bind.empty()) << opt;
    }
}

TEST(MountOptions, RecursiveAndTopLevelAreIndependent) {
    MountOptions o = parse({"rro", "rw"}, "bind");
    EXPECT_EQ(o.recursive_attr_set, uint64_t(MOUNT_ATTR_RDONLY));
    EXPECT_EQ(o.attr_clear, uint64_t(MOUNT_ATTR_RDONLY));
    EXPECT_EQ(o.attr_set, 0u);
}

// ---------------------------------------------------------------------------------------------
// Bind mounts

TEST(MountOptions, BindAndRbind) {
    MountOptions bind = parse({"bind"}, "none");
    EXPECT_TRUE(bind.bind);
    EXPECT_FALSE(bind.recursive_bind);
    MountOptions rbind = parse({"rbind"}, "none");
    EXPECT_TRUE(rbind.bind);
    EXPECT_TRUE(rbind.recursive_bind);
    EXPECT_TRUE(rbind.fs_options.empty());
}

TEST(MountOptions, TypeBindIsABindMountWithoutOptions) {
    MountOptions o = parse({}, "bind");
    EXPECT_TRUE(o.bind);
    EXPECT_FALSE(o.recursive_bind);
    MountOptions r = parse({"rbind"}, "bind");
    EXPECT_TRUE(r.recursive_bind);
}

TEST(MountOptions, ReadOnlyBindMount) {
    MountOptions o = parse({"rbind", "nosuid", "noexec", "nodev", "ro"}, "none");
    EXPECT_TRUE(o.bind);
    EXPECT_TRUE(o.recursive_bind);
    EXPECT_EQ(o.attr_set, uint64_t(MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NODEV | MOUNT_ATTR_RDONLY));
    EXPECT_TRUE(o.fs_options.empty());
}

// mount(2) with MS_BIND ignores its data (the runtime-spec: unknown options are passed as data):
// filesystem options on a bind change nothing and are kept aside, with their paths, for a warning.
TEST(MountOptions, FilesystemOptionsOnABindMountAreSetAside) {
    MountOptions o = parse({"rbind", "mode=755", "ro", "size=1k", "sync"}, "bind");
    EXPECT_TRUE(o.bind);
    EXPECT_EQ(o.attr_set, uint64_t(MOUNT_ATTR_RDONLY));
    EXPECT_TRUE(o.fs_options.empty());
    EXPECT_TRUE(o.fs_option_paths.empty());
    using Ignored = std::vector<std::pair<std::string, std::string>>;
    EXPECT_EQ(o.ignored_on_bind, (Ignored{{kPath + "[1]", "mode=755"}, {kPath + "[3]", "size=1k"}, {kPath + "[4]", "sync"}}));
    EXPECT_EQ(parse({"newinstance", "bind"}, "devpts").ignored_on_bind, (Ignored{{kPath + "[0]", "newinstance"}}));
}

TEST(MountOptions, EachFilesystemOptionKeepsItsPath) {
    MountOptions o = parse({"nosuid", "mode=755", "size=1k"});
    EXPECT_EQ(o.fs_option_paths, (std::vector<std::string>{kPath + "[1]", kPath + "[2]"}));
    EXPECT_TRUE(o.ignored_on_bind.empty());
}

// "remount" (runc and crun: MS_REMOUNT): no new mount, the one at the destination changes.
TEST(MountOptions, RemountChangesTheMountThere) {
    MountOptions o = parse({"remount", "ro", "size=2m"});
    EXPECT_TRUE(o.remount);
    EXPECT_EQ(o.attr_set, uint64_t(MOUNT_ATTR_RDONLY));
    EXPECT_EQ(o.fs_options, (FsOptions{{"size", "2m"}}));
    MountOptions bind = parse({"rbind", "remount", "nosuid"}, "bind");
    EXPECT_TRUE(bind.remount && bind.bind);
    EXPECT_TRUE(ThrowsSpecError([] { parse({"remount", "tmpcopyup"}); }, kPath, "tmpcopyup"));
    EXPECT_TRUE(ThrowsSpecError([] { parse({"rbind", "remount", "idmap"}, "bind"); }, kPath, "idmap"));
}

// ---------------------------------------------------------------------------------------------
// Propagation

TEST(MountOptions, Propagation) {
    struct Case {
        const char* option;
        uint64_t flag;
        bool recursive;
    } cases[] = {
        {"private", MS_PRIVATE, false},   {"rprivate", MS_PRIVATE, true},       {"slave", MS_SLAVE, false},
        {"rslave", MS_SLAVE, true},       {"shared", MS_SHARED, false},         {"rshared", MS_SHARED, true},
        {"unbindable", MS_UNBINDABLE, false}, {"runbindable", MS_UNBINDABLE, true},
    };
    for (auto& c : cases) {
        MountOptions o = parse({"rbind", c.option}, "bind");
        EXPECT_EQ(o.propagation, c.flag) << c.option;
        EXPECT_EQ(o.recursive_propagation, c.recursive) << c.option;
        EXPECT_EQ(o.attr_set, 0u) << c.option;
        EXPECT_TRUE(o.fs_options.empty()) << c.option;
    }
}

TEST(MountOptions, LastPropagationWins) {
    MountOptions o = parse({"rshared", "private"}, "bind");
    EXPECT_EQ(o.propagation, uint64_t(MS_PRIVATE));
    EXPECT_FALSE(o.recursive_propagation);
}

TEST(ParsePropagation, KnownNames) {
    uint64_t flag = 0;
    bool recursive = false;
    ASSERT_TRUE(parse_propagation("rslave", flag, recursive));
    EXPECT_EQ(flag, uint64_t(MS_SLAVE));
    EXPECT_TRUE(recursive);
    ASSERT_TRUE(parse_propagation("shared", flag, recursive));
    EXPECT_EQ(flag, uint64_t(MS_SHARED));
    EXPECT_FALSE(recursive);
    ASSERT_TRUE(parse_propagation("runbindable", flag, recursive));
    EXPECT_EQ(flag, uint64_t(MS_UNBINDABLE));
    EXPECT_TRUE(recursive);
}

TEST(ParsePropagation, OtherNamesAreNotPropagation) {
    for (const char* name : {"", "r", "ro", "rw", "rro", "relatime", "rbind", "bind", "rrprivate", "Private", "priv"}) {
        uint64_t flag = 12345;
        bool recursive = false;
        EXPECT_FALSE(parse_propagation(name, flag, recursive)) << name;
        EXPECT_EQ(flag, 12345u) << name;
    }
}

// ---------------------------------------------------------------------------------------------
// Filesystem options for fsconfig

TEST(MountOptions, FilesystemOptionsSplitKeyAndValue) {
    MountOptions o = parse({"nosuid", "strictatime", "mode=755", "size=65536k"});
    EXPECT_EQ(o.fs_options, (FsOptions{{"mode", "755"}, {"size", "65536k"}}));
    EXPECT_EQ(o.attr_set, uint64_t(MOUNT_ATTR_NOSUID | MOUNT_ATTR_STRICTATIME));
}

TEST(MountOptions, FlagsWithoutValueAndValuesContainingEquals) {
    MountOptions o = parse({"newinstance", "ptmxmode=0666", "context=system_u:object_r:x=y", "mode=", "gid=5"}, "devpts");
    EXPECT_EQ(o.fs_options, (FsOptions{{"newinstance", ""},
                                       {"ptmxmode", "0666"},
                                       {"context", "system_u:object_r:x=y"},
                                       {"mode", ""},
                                       {"gid", "5"}}));
}

TEST(MountOptions, SuperblockFlagsAreFilesystemFlags) {
    MountOptions o = parse({"sync", "dirsync", "lazytime", "mand", "iversion", "silent"});
    EXPECT_EQ(o.fs_options, (FsOptions{{"sync", ""}, {"dirsync", ""}, {"lazytime", ""}, {"mand", ""}, {"iversion", ""}, {"silent", ""}}));
    EXPECT_EQ(o.attr_set, 0u);
}

TEST(MountOptions, UnknownOptionsArePassedToTheFilesystem) {
    MountOptions o = parse({"xino=off", "userxattr"}, "overlay");
    EXPECT_EQ(o.fs_options, (FsOptions{{"xino", "off"}, {"userxattr", ""}}));
}

TEST(MountOptions, EmptyOptionNameIsRefusedWithItsIndex) {
    EXPECT_TRUE(ThrowsSpecError([] { parse({"nosuid", "=value"}); }, kPath + "[1]", "empty mount option name"));
    EXPECT_TRUE(ThrowsSpecError([] { parse({""}); }, kPath + "[0]", "empty mount option name"));
}

// ---------------------------------------------------------------------------------------------
// crun's symlink options: bind mounts only, copy-symlink alone

TEST(MountOptions, SymlinkOptionsAreForBindMountsAndCopySymlinkGoesAlone) {
    EXPECT_TRUE(parse({"rbind", "copy-symlink"}, "bind").copy_symlink);
    auto both = parse({"bind", "src-nofollow", "dest-nofollow"}, "bind");
    EXPECT_TRUE(both.src_nofollow && both.dest_nofollow && !both.copy_symlink);
    for (const char* opt : {"copy-symlink", "src-nofollow", "dest-nofollow"})
        EXPECT_TRUE(ThrowsSpecError([&] { parse({"nosuid", opt}, "tmpfs"); }, kPath + "[1]", "for bind mounts")) << opt;
    EXPECT_TRUE(ThrowsSpecError([] { parse({"rbind", "src-nofollow", "copy-symlink"}, "bind"); }, kPath + "[2]", "cannot go with"));
}

TEST(MountOptions, IdmapAndRidmapMarkAnIdmappedBind) {
    auto idmap = parse({"rbind", "idmap"}, "bind");
    EXPECT_TRUE(idmap.idmap);
    EXPECT_FALSE(idmap.recursive_idmap);
    auto ridmap = parse({"rbind", "ridmap"}, "bind");
    EXPECT_TRUE(ridmap.idmap);
    EXPECT_TRUE(ridmap.recursive_idmap);
}

TEST(MountOptions, TmpcopyupIsForTmpfsOnly) {
    auto o = parse({"nosuid", "nodev", "tmpcopyup", "mode=755"});
    EXPECT_TRUE(o.tmpcopyup);
    EXPECT_EQ(o.fs_options.size(), 1u);  // mode=755 only: tmpcopyup is the runtime's, not tmpfs's
    EXPECT_TRUE(ThrowsSpecError([] { parse({"nosuid", "tmpcopyup"}, "proc"); }, kPath + "[1]", "only for tmpfs"));
}

// ---------------------------------------------------------------------------------------------
// Every mount of the default configs goes through.

TEST(MountOptions, DefaultSpecMountsAllParse) {
    for (bool rootless : {false, true}) {
        spec::Spec s = spec::parse_spec(spec::default_spec(rootless));
        for (size_t i = 0; i < s.mounts.size(); ++i) {
            const spec::Mount& m = s.mounts[i];
            EXPECT_TRUE(test::DoesNotThrow([&] {
                parse_mount_options(m.options, m.type, ".mounts[" + std::to_string(i) + "].options");
            })) << m.destination << (rootless ? " (rootless)" : "");
        }
    }
}

TEST(MountOptions, DefaultDevptsMount) {
    spec::Spec s = spec::parse_spec(spec::default_spec(false));
    const spec::Mount& devpts = s.mounts[2];
    ASSERT_EQ(devpts.destination, "/dev/pts");
    MountOptions o = parse_mount_options(devpts.options, devpts.type, ".mounts[2].options");
    EXPECT_FALSE(o.bind);
    EXPECT_EQ(o.attr_set, uint64_t(MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC));
    EXPECT_EQ(o.fs_options, (FsOptions{{"newinstance", ""}, {"ptmxmode", "0666"}, {"mode", "0620"}, {"gid", "5"}}));
}

}  // namespace
}  // namespace crunlite::planning
