// Container state on disk: IDs, records, atomic writes, process liveness and the per-container
// state file. Everything runs in a temporary root; no container is started.
#include <gtest/gtest.h>
#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "crunlite/error.hpp"
#include "crunlite/state.hpp"
#include "test_util.hpp"

namespace crunlite::state {
namespace {

namespace fs = std::filesystem;
using test::DoesNotThrow;
using test::TempDir;
using test::ThrowsError;

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Field 22 of /proc/<pid>/stat, read independently of the code under test.
uint64_t start_time_of(int pid) {
    std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    std::istringstream fields(stat.substr(stat.rfind(')') + 2));
    std::string field;
    for (int i = 3; i <= 22; ++i) fields >> field;
    return std::stoull(field);
}

// ---------------------------------------------------------------------------------------------
// validate_id: runc's set [A-Za-z0-9_+\-.]+, not "." or ".."

TEST(ValidateId, AcceptsRuncIds) {
    for (const char* id : {"a", "abc", "ABC", "0", "my-container_1", "a.b", "a+b", "...", ".hidden", "-", "_",
                           "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}) {
        EXPECT_TRUE(DoesNotThrow([&] { validate_id(id); })) << id;
    }
}

TEST(ValidateId, RefusesEverythingElse) {
    for (const char* id : {"", ".", "..", "a/b", "/abc", "abc/", "../x", "a b", "a:b", "a,b", "a@b", "a\\b", "a\nb",
                           "caf\xc3\xa9", "a*", "$(x)"}) {
        EXPECT_TRUE(ThrowsError([&] { validate_id(id); }, "invalid container ID")) << id;
    }
}

TEST(ValidateId, AtMostOneDirectoryNameLong) {
    EXPECT_TRUE(DoesNotThrow([&] { validate_id(std::string(255, 'a')); }));
    EXPECT_TRUE(ThrowsError([&] { validate_id(std::string(256, 'a')); }, "at most 255"));
    EXPECT_TRUE(ThrowsError([&] { validate_id(std::string(2000, 'a')); }, "invalid container ID"));
}

TEST(ValidateId, ErrorQuotesTheIdAndEscapesControlCharacters) {
    try {
        validate_id("a\nb\x1b[2J");
        FAIL() << "did not throw";
    } catch (const Error& e) {
        std::string what = e.what();
        EXPECT_EQ(what.find('\n'), std::string::npos) << what;
        EXPECT_EQ(what.find('\x1b'), std::string::npos) << what;
        EXPECT_TRUE(test::contains(what, "invalid container ID \"a\\nb")) << what;
    }
    try {
        validate_id("a b");
        FAIL() << "did not throw";
    } catch (const Error& e) {
        EXPECT_TRUE(test::contains(e.what(), "invalid container ID \"a b\"")) << e.what();
    }
}

TEST(ValidateId, RefusesEmbeddedNul) {
    std::string id("ab\0cd", 5);
    EXPECT_TRUE(ThrowsError([&] { validate_id(id); }, "invalid container ID"));
}

// ---------------------------------------------------------------------------------------------
// Records

Record sample_record() {
    Record r;
    r.id = "c1";
    r.pid = 4242;
    r.pid_start_time = 123456789012ULL;
    r.bundle = "/srv/bundles/c1";
    r.rootfs = "/srv/bundles/c1/rootfs";
    r.created = "2024-01-02T03:04:05.123456789Z";
    r.owner = "root";
    r.oci_version = "1.2.0";
    r.annotations = {{"org.example.a", "1"}, {"org.example.b", "two"}};
    r.cgroup_dirs = {"/sys/fs/cgroup/crun-lite/c1", "/sys/fs/cgroup/memory/crun-lite/c1"};
    r.hooks = {{"poststop", {{{"path", "/bin/true"}}}}};
    return r;
}

void expect_same(const Record& a, const Record& b) {
    EXPECT_EQ(a.id, b.id);
    EXPECT_EQ(a.pid, b.pid);
    EXPECT_EQ(a.pid_start_time, b.pid_start_time);
    EXPECT_EQ(a.bundle, b.bundle);
    EXPECT_EQ(a.rootfs, b.rootfs);
    EXPECT_EQ(a.created, b.created);
    EXPECT_EQ(a.owner, b.owner);
    EXPECT_EQ(a.oci_version, b.oci_version);
    EXPECT_EQ(a.annotations, b.annotations);
    EXPECT_EQ(a.cgroup_dirs, b.cgroup_dirs);
    EXPECT_EQ(a.hooks, b.hooks);
}

TEST(Record, RoundTripsThroughJson) {
    Record r = sample_record();
    expect_same(record_from_json(record_to_json(r)), r);
}

TEST(Record, RoundTripsThroughSerialisedText) {
    Record r = sample_record();
    std::string text = record_to_json(r).dump();
    expect_same(record_from_json(nlohmann::json::parse(text)), r);
}

TEST(Record, EmptyRecordRoundTrips) {
    Record r;
    expect_same(record_from_json(record_to_json(r)), r);
}

TEST(Record, JsonCarriesEveryField) {
    nlohmann::json j = record_to_json(sample_record());
    EXPECT_EQ(j.at("id"), "c1");
    EXPECT_EQ(j.at("pid"), 4242);
    EXPECT_EQ(j.at("pid_start_time"), 123456789012ULL);
    EXPECT_EQ(j.at("bundle"), "/srv/bundles/c1");
    EXPECT_EQ(j.at("created"), "2024-01-02T03:04:05.123456789Z");
    EXPECT_EQ(j.at("annotations").at("org.example.b"), "two");
    EXPECT_EQ(j.at("cgroup_dirs").size(), 2u);
}

TEST(Record, OptionalFieldsDefaultWhenAbsent) {
    nlohmann::json j = record_to_json(sample_record());
    for (const char* key : {"owner", "oci_version", "annotations", "cgroup_dirs", "hooks"}) j.erase(key);
    Record r = record_from_json(j);
    EXPECT_EQ(r.id, "c1");
    EXPECT_TRUE(r.owner.empty());
    EXPECT_TRUE(r.oci_version.empty());
    EXPECT_TRUE(r.annotations.empty());
    EXPECT_TRUE(r.cgroup_dirs.empty());
    EXPECT_TRUE(r.hooks.is_object());
    EXPECT_TRUE(r.hooks.empty());
}

TEST(Record, RequiredFieldMissingThrows) {
    nlohmann::json j = record_to_json(sample_record());
    j.erase("pid");
    EXPECT_ANY_THROW(record_from_json(j));
}

// Found by tests/fuzz/fuzz_state: nlohmann casts a float to int, undefined behaviour (UBSan:
// "1.18447e+24 is outside the range of representable values of type 'int'") when it does not fit.
TEST(Record, NumbersThatAreNotIntegersOfTheirTypeAreUnreadable) {
    for (const char* pid : {"1e300", "-1e300", "1.5", "3000000000", "-2147483649", "\"1\""}) {
        std::istringstream in(R"({"id":"c1","pid":)" + std::string(pid) +
                              R"(,"pid_start_time":1,"bundle":"/b","rootfs":"/b/rootfs","created":"x"})");
        EXPECT_TRUE(ThrowsError([&] { read_record(in, "c1"); }, "container \"c1\" does not exist (its state file is unreadable)"))
            << "pid " << pid;
    }
    for (const char* start : {"1e300", "-1", "-1.0", "0.5"}) {
        std::istringstream in(R"({"id":"c1","pid":1,"pid_start_time":)" + std::string(start) +
                              R"(,"bundle":"/b","rootfs":"/b/rootfs","created":"x"})");
        EXPECT_TRUE(ThrowsError([&] { read_record(in, "c1"); }, "its state file is unreadable")) << "pid_start_time " << start;
    }
    std::istringstream in(R"({"id":"c1","pid":2147483647,"pid_start_time":18446744073709551615,"bundle":"/b","rootfs":"/r","created":"x"})");
    Record r = read_record(in, "c1");
    EXPECT_EQ(r.pid, 2147483647);
    EXPECT_EQ(r.pid_start_time, 18446744073709551615ULL);
}

TEST(StateFile, StateFileWithAnOutOfRangePidIsUnreadable) {
    TempDir root;
    std::ofstream(root / "c1")
        << R"({"id":"c1","pid":1e300,"pid_start_time":1,"bundle":"/b","rootfs":"/b/rootfs","created":"x"})";
    EXPECT_TRUE(ThrowsError([&] { StateFile::open(root.path(), "c1"); }, "its state file is unreadable"));
}

TEST(StatusName, AllStatuses) {
    EXPECT_STREQ(status_name(Status::creating), "creating");
    EXPECT_STREQ(status_name(Status::created), "created");
    EXPECT_STREQ(status_name(Status::running), "running");
    EXPECT_STREQ(status_name(Status::paused), "paused");
    EXPECT_STREQ(status_name(Status::stopped), "stopped");
}

// ---------------------------------------------------------------------------------------------
// write_file_atomically

class WriteFileAtomically : public ::testing::Test {
protected:
    void SetUp() override { old_umask_ = ::umask(022); }
    void TearDown() override { ::umask(old_umask_); }
    std::vector<std::string> entries() const {
        std::vector<std::string> names;
        for (auto& e : fs::directory_iterator(dir_.path())) names.push_back(e.path().filename().string());
        return names;
    }
    TempDir dir_;
    mode_t old_umask_ = 0;
};

TEST_F(WriteFileAtomically, WritesContentWithMode) {
    std::string path = dir_ / "state.json";
    write_file_atomically(path, "{\"a\":1}", 0600);
    EXPECT_EQ(read_file(path), "{\"a\":1}");
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    EXPECT_TRUE(S_ISREG(st.st_mode));
}

TEST_F(WriteFileAtomically, DefaultModeIs0644) {
    std::string path = dir_ / "f";
    write_file_atomically(path, "x");
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0644u);
}

TEST_F(WriteFileAtomically, ReplacesExistingContentAndLeavesNoTemporaryFile) {
    std::string path = dir_ / "state.json";
    write_file_atomically(path, std::string(10000, 'a'), 0600);
    write_file_atomically(path, "short", 0600);
    EXPECT_EQ(read_file(path), "short");
    EXPECT_EQ(entries(), std::vector<std::string>{"state.json"});
}

TEST_F(WriteFileAtomically, ReplacesTheInodeRatherThanRewritingIt) {
    std::string path = dir_ / "state.json";
    write_file_atomically(path, "one", 0600);
    std::string link = dir_ / "old";
    ASSERT_EQ(::link(path.c_str(), link.c_str()), 0);
    write_file_atomically(path, "two", 0600);
    EXPECT_EQ(read_file(path), "two");
    EXPECT_EQ(read_file(link), "one");  // a reader holding the old file never sees a partial write
}

TEST_F(WriteFileAtomically, EmptyContent) {
    std::string path = dir_ / "empty";
    write_file_atomically(path, "", 0600);
    EXPECT_TRUE(fs::exists(path));
    EXPECT_EQ(fs::file_size(path), 0u);
}

TEST_F(WriteFileAtomically, MissingDirectoryIsAnErrorAndLeavesNothing) {
    std::string path = dir_ / "missing/state.json";
    EXPECT_TRUE(ThrowsError([&] { write_file_atomically(path, "x", 0600); }, "missing"));
    EXPECT_TRUE(entries().empty());
}

TEST_F(WriteFileAtomically, RenameFailureLeavesNoTemporaryFile) {
    std::string path = dir_ / "target";
    ASSERT_TRUE(fs::create_directory(path));
    ASSERT_TRUE(fs::create_directory(path + "/child"));  // a non-empty directory cannot be replaced by a file
    EXPECT_TRUE(ThrowsError([&] { write_file_atomically(path, "x", 0600); }, "rename"));
    EXPECT_EQ(entries(), std::vector<std::string>{"target"});
}

// ---------------------------------------------------------------------------------------------
// live_process_start_time

TEST(LiveProcessStartTime, OwnProcessHasItsStartTime) {
    auto t = live_process_start_time(getpid());
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(*t, start_time_of(getpid()));
    EXPECT_GT(*t, 0u);
}

TEST(LiveProcessStartTime, NonPositivePidHasNone) {
    EXPECT_FALSE(live_process_start_time(0).has_value());
    EXPECT_FALSE(live_process_start_time(-1).has_value());
}

TEST(LiveProcessStartTime, ReapedChildHasNone) {
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) _exit(0);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    EXPECT_FALSE(live_process_start_time(child).has_value());
}

TEST(LiveProcessStartTime, ZombieChildHasNone) {
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) _exit(0);
    // Wait until the child is a zombie, without reaping it.
    siginfo_t info{};
    ASSERT_EQ(waitid(P_PID, child, &info, WEXITED | WNOWAIT), 0);
    EXPECT_FALSE(live_process_start_time(child).has_value());
    ASSERT_EQ(waitpid(child, nullptr, 0), child);
}

TEST(LiveProcessStartTime, RunningChildHasItsOwnStartTime) {
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        pause();
        _exit(0);
    }
    auto t = live_process_start_time(child);
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    ASSERT_TRUE(t.has_value());
    EXPECT_GE(*t, start_time_of(getpid()));
}

// ---------------------------------------------------------------------------------------------
// StateFile

Record record_for(const std::string& id, int pid, uint64_t start_time) {
    Record r = sample_record();
    r.id = id;
    r.pid = pid;
    r.pid_start_time = start_time;
    r.cgroup_dirs.clear();
    return r;
}

// A container as a finished create leaves it.
void make_recorded(const std::string& root, const Record& r) {
    StateFile file = StateFile::create(root, r.id);
    file.save(r);
    file.keep();
}

TEST(StateFile, CreateMakesAPrivateEmptyFileUnderANewRoot) {
    TempDir tmp;
    std::string root = tmp / "a/b/root";
    {
        StateFile file = StateFile::create(root, "c1");
        EXPECT_EQ(file.path(), root + "/c1");
        EXPECT_EQ(file.fifo_path(), "");  // none unless make_exec_fifo
        struct stat st {};
        ASSERT_EQ(::stat(file.path().c_str(), &st), 0);
        EXPECT_TRUE(S_ISREG(st.st_mode));
        EXPECT_EQ(st.st_mode & 0777, 0600u);
        EXPECT_EQ(st.st_size, 0);  // nothing saved yet
        ASSERT_EQ(::stat(root.c_str(), &st), 0);
        EXPECT_EQ(st.st_mode & 0777, 0700u);
        file.keep();
    }
    EXPECT_TRUE(fs::is_regular_file(root + "/c1"));
}

TEST(StateFile, CreateWithoutKeepIsRolledBack) {
    TempDir tmp;
    { StateFile file = StateFile::create(tmp.path(), "c1"); }
    EXPECT_FALSE(fs::exists(tmp / "c1"));
}

TEST(StateFile, CreateTwiceIsAnExistsError) {
    TempDir tmp;
    make_recorded(tmp.path(), record_for("c1", 1, 1));
    EXPECT_TRUE(ThrowsError([&] { StateFile::create(tmp.path(), "c1"); }, "exists"));
    expect_same(StateFile::open(tmp.path(), "c1").record(), record_for("c1", 1, 1));  // the failed create removed nothing
}

TEST(StateFile, CreateTwiceWhileTheFirstIsHeldIsAnExistsError) {
    TempDir tmp;
    StateFile first = StateFile::create(tmp.path(), "c1");
    EXPECT_TRUE(ThrowsError([&] { StateFile::create(tmp.path(), "c1"); }, "exists"));
}

// The state file is made with O_EXCL|O_NOFOLLOW: a symlink at its name is an existing name,
// never followed to create or truncate its target.
TEST(StateFile, CreateOverASymlinkIsAnExistsErrorAndLeavesItsTargetAlone) {
    TempDir tmp;
    std::ofstream(tmp / "target") << "keep";
    ASSERT_EQ(::symlink((tmp / "target").c_str(), (tmp / "c1").c_str()), 0);
    EXPECT_TRUE(ThrowsError([&] { StateFile::create(tmp.path(), "c1"); }, "exists"));
    EXPECT_TRUE(ThrowsError([&] { StateFile::open(tmp.path(), "c1"); }, "open"));
    EXPECT_EQ(read_file(tmp / "target"), "keep");
}

TEST(StateFile, CreateValidatesTheId) {
    TempDir tmp;
    EXPECT_TRUE(ThrowsError([&] { StateFile::create(tmp.path(), "../escape"); }, "invalid container ID"));
    EXPECT_TRUE(ThrowsError([&] { StateFile::create(tmp.path(), "c1:exec.fifo"); }, "invalid container ID"));
    EXPECT_FALSE(fs::exists(tmp.path() + "/../escape"));
}

TEST(StateFile, OpenMissingContainer) {
    TempDir tmp;
    try {
        StateFile::open(tmp.path(), "x");
        FAIL() << "did not throw";
    } catch (const Error& e) {
        // One line: what is missing, then where to look.
        EXPECT_EQ(std::string(e.what()).rfind("container \"x\" does not exist (hint: `crun-lite list`", 0), 0u) << e.what();
    }
}

TEST(StateFile, OpenUnderMissingRoot) {
    TempDir tmp;
    EXPECT_TRUE(ThrowsError([&] { StateFile::open(tmp / "nope", "x"); }, "container \"x\" does not exist"));
}

TEST(StateFile, OpenWithCorruptStateFile) {
    TempDir tmp;
    std::ofstream(tmp / "c1") << "{not json";
    EXPECT_TRUE(ThrowsError([&] { StateFile::open(tmp.path(), "c1"); }, "container \"c1\" does not exist"));
}

// A state file that is valid JSON but not a record (truncated by an older version, edited by
// hand) must be reported like an unreadable one, as a crunlite::Error; open() lets
// nlohmann's out_of_range ("[json.exception.out_of_range.403] key 'id' not found") escape.
TEST(StateFile, OpenWithStateFileMissingFieldsIsACrunliteError) {
    TempDir tmp;
    std::ofstream(tmp / "c1") << "{}";
    EXPECT_TRUE(ThrowsError([&] { StateFile::open(tmp.path(), "c1"); }, "c1"));
}

TEST(StateFile, OpenValidatesTheId) {
    TempDir tmp;
    EXPECT_TRUE(ThrowsError([&] { StateFile::open(tmp.path(), ".."); }, "invalid container ID"));
}

TEST(StateFile, SaveThenOpenReadsTheRecordBack) {
    TempDir tmp;
    Record r = record_for("c1", 4242, 99);
    {
        StateFile file = StateFile::create(tmp.path(), "c1");
        file.save(r);
        expect_same(file.record(), r);
        file.keep();
    }
    struct stat st {};
    ASSERT_EQ(::stat((tmp / "c1").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    StateFile opened = StateFile::open(tmp.path(), "c1");
    EXPECT_EQ(opened.path(), tmp / "c1");
    expect_same(opened.record(), r);
}

// Saves rewrite the one state file in place (all of its readers hold the lock): no new inode,
// and shorter content is padded so that one write replaces the old content whole.
TEST(StateFile, SavesRewriteTheSameFileInPlace) {
    TempDir tmp;
    Record small = record_for("c1", 7, 8);
    struct stat first {}, second {};
    {
        StateFile file = StateFile::create(tmp.path(), "c1");
        Record big = record_for("c1", 123456, 987654321);
        big.annotations["note"] = std::string(1000, 'x');
        file.save(big);
        ASSERT_EQ(::stat((tmp / "c1").c_str(), &first), 0);
        file.save(small);
        ASSERT_EQ(::stat((tmp / "c1").c_str(), &second), 0);
        file.keep();
    }
    EXPECT_EQ(second.st_ino, first.st_ino);
    EXPECT_EQ(second.st_size, first.st_size);  // padded, not truncated
    expect_same(StateFile::open(tmp.path(), "c1").record(), small);
}

// Past one page a write could be cut short by a SIGKILL: then a new file, written and locked
// first, takes the name, and nothing is left under the replacement's name.
TEST(StateFile, ALargeStateIsReplacedWhole) {
    TempDir tmp;
    Record large = record_for("c1", 2, 2);
    large.annotations["note"] = std::string(5000, 'y');
    struct stat first {}, second {};
    {
        StateFile file = StateFile::create(tmp.path(), "c1");
        file.save(record_for("c1", 1, 1));
        ASSERT_EQ(::stat((tmp / "c1").c_str(), &first), 0);
        file.save(large);
        ASSERT_EQ(::stat((tmp / "c1").c_str(), &second), 0);
        file.save(record_for("c1", 3, 3));  // and back below a page: the new file, rewritten
        file.save(large);
        file.keep();
    }
    EXPECT_NE(second.st_ino, first.st_ino);
    EXPECT_EQ(std::distance(fs::directory_iterator(tmp.path()), fs::directory_iterator()), 1);  // no replacement left
    expect_same(StateFile::open(tmp.path(), "c1").record(), large);
}

// A command that waited for the lock of a file a large save replaced must read the new file,
// and then hold the new file's lock, not the old one's.
TEST(StateFile, AWaiterOnAReplacedFileGetsTheNewOne) {
    TempDir tmp;
    Record large = record_for("c1", 5, 5);
    large.annotations["note"] = std::string(6000, 'z');
    std::optional<StateFile> holder(StateFile::create(tmp.path(), "c1"));
    holder->save(record_for("c1", 4, 4));
    holder->keep();
    std::optional<Record> seen;
    std::thread waiter([&] { seen = StateFile::open(tmp.path(), "c1").record(); });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the waiter is blocked on the old file by now
    holder->save(large);
    EXPECT_FALSE(seen.has_value());  // still held: the new file was locked before it got the name
    holder.reset();
    waiter.join();
    ASSERT_TRUE(seen.has_value());
    expect_same(*seen, large);
}

// A command that waited for the lock of a container that was deleted meanwhile finds nothing.
TEST(StateFile, AWaiterOnARemovedContainerFindsItGone) {
    TempDir tmp;
    std::optional<StateFile> holder(StateFile::create(tmp.path(), "c1"));
    holder->save(record_for("c1", 4, 4));
    std::string error;
    std::thread waiter([&] {
        try {
            StateFile::open(tmp.path(), "c1");
        } catch (const Error& e) {
            error = e.what();
        }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    holder->remove();
    holder.reset();
    waiter.join();
    EXPECT_NE(error.find("container \"c1\" does not exist"), std::string::npos) << error;
}

ino_t inode_of(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_ino;
}

// An empty state file is what a create killed between creating and writing it leaves; a large
// first save may also have left its replacement behind.
TEST(StateFile, AnEmptyStateFileIsNoRecordAndIsRemovedWithAnUnfinishedReplacement) {
    TempDir tmp;
    std::ofstream(tmp / "c1").close();
    std::string replacement = tmp / (":state.new." + std::to_string(inode_of(tmp / "c1")));
    std::ofstream(replacement) << "{\"id\":";
    EXPECT_TRUE(ThrowsError([&] { StateFile::open(tmp.path(), "c1"); }, "container \"c1\" does not exist"));
    StateFile::remove_unrecorded(tmp.path(), "c1");
    EXPECT_TRUE(fs::is_empty(tmp.path()));
}

TEST(StateFile, RemoveUnrecordedLeavesARecordedContainer) {
    TempDir tmp;
    make_recorded(tmp.path(), record_for("c1", 1, 1));
    StateFile::remove_unrecorded(tmp.path(), "c1");
    expect_same(StateFile::open(tmp.path(), "c1").record(), record_for("c1", 1, 1));
}

// `run` deletes its container through reopen once it has exited: not another container that a
// `delete --force` and a `create` of the same ID put in its place meanwhile, even in the same
// file system inode (ext4 hands a freed one out again within the second).
TEST(StateFile, ReopenKnowsItsOwnContainerAgain) {
    TempDir tmp;
    Record mine = record_for("c1", 1, 1);
    make_recorded(tmp.path(), mine);
    EXPECT_TRUE(DoesNotThrow([&] { StateFile::reopen(tmp.path(), mine); }));
    StateFile::open(tmp.path(), "c1").remove();
    EXPECT_TRUE(ThrowsError([&] { StateFile::reopen(tmp.path(), mine); }, "container \"c1\" does not exist"));
    Record other = record_for("c1", 1, 1);
    other.created = "2024-01-02T03:04:05.123456790Z";  // one nanosecond later
    make_recorded(tmp.path(), other);
    EXPECT_TRUE(ThrowsError([&] { StateFile::reopen(tmp.path(), mine); }, "container \"c1\" does not exist"));
    expect_same(StateFile::open(tmp.path(), "c1").record(), other);  // untouched
    StateFile::open(tmp.path(), "c1").remove();
    {
        StateFile unrecorded = StateFile::create(tmp.path(), "c1");  // a create still at work
        unrecorded.keep();
    }
    EXPECT_TRUE(ThrowsError([&] { StateFile::reopen(tmp.path(), mine); }, "container \"c1\" does not exist"));
}

// Reading a container's state needs no write access to it (flock does not): a user who may only
// read the file, as from a read-only mount of the root, still gets `state`.
TEST(StateFile, OpenNeedsOnlyReadAccess) {
    TempDir tmp;
    make_recorded(tmp.path(), record_for("c1", 1, 1));
    constexpr uid_t kNobody = 65534;
    ASSERT_EQ(::chmod(tmp.path().c_str(), 0711), 0);
    ASSERT_EQ(::chown((tmp / "c1").c_str(), kNobody, kNobody), 0);
    ASSERT_EQ(::chmod((tmp / "c1").c_str(), 0400), 0);
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        if (::setgroups(0, nullptr) != 0 || ::setgid(kNobody) != 0 || ::setuid(kNobody) != 0) ::_exit(2);
        try {
            ::_exit(StateFile::open(tmp.path(), "c1").record().pid == 1 ? 0 : 3);
        } catch (...) {
            ::_exit(1);
        }
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "exit status " << WEXITSTATUS(status);
}

// The record names its fifo; anything but a name make_exec_fifo gives is refused, so that a
// damaged state file cannot make `delete` remove, or `start` open, another file.
TEST(Record, ExecFifoMustBeANameMakeExecFifoGives) {
    EXPECT_TRUE(is_exec_fifo_name(":exec.fifo.0123456789abcdef"));
    for (const char* bad : {":exec.fifo.0123456789ABCDEF", ":exec.fifo.0123", ":state.new.12", "c1", "../../etc/passwd",
                            ":exec.fifo./123456789abcdef", ":exec.fifo.0123456789abcdef0"})
        EXPECT_FALSE(is_exec_fifo_name(bad)) << bad;
    nlohmann::json j = record_to_json(sample_record());
    j["exec_fifo"] = ":state.new.12";
    std::istringstream in(j.dump());
    EXPECT_TRUE(ThrowsError([&] { read_record(in, "c1"); }, "its state file is unreadable"));
    j["exec_fifo"] = ":exec.fifo.0123456789abcdef";
    EXPECT_EQ(record_from_json(j).exec_fifo, ":exec.fifo.0123456789abcdef");
}

// linux.intelRdt: the resctrl directories delete may remove come back as they were saved, and a
// damaged state file cannot name a relative path or one with ".." instead.
TEST(Record, ResctrlGroupsRoundTripAndMustBeAbsolute) {
    Record r = sample_record();
    r.resctrl_group = "/sys/fs/resctrl/c1";
    r.resctrl_mon_group = "/sys/fs/resctrl/c1/mon_groups/c1";
    r.resctrl_made_group = true;
    Record back = record_from_json(record_to_json(r));
    EXPECT_EQ(back.resctrl_group, r.resctrl_group);
    EXPECT_EQ(back.resctrl_mon_group, r.resctrl_mon_group);
    EXPECT_TRUE(back.resctrl_made_group);
    EXPECT_FALSE(back.resctrl_made_mon_group);
    for (const char* bad : {"sys/fs/resctrl/c1", "/sys/fs/resctrl/../../etc"}) {
        nlohmann::json j = record_to_json(r);
        j["resctrl"]["group"] = bad;
        std::istringstream in(j.dump());
        EXPECT_TRUE(ThrowsError([&] { read_record(in, "c1"); }, "its state file is unreadable")) << bad;
    }
}

TEST(StateFile, OpenedFileIsNotRemovedOnDestruction) {
    TempDir tmp;
    make_recorded(tmp.path(), record_for("c1", 1, 1));
    { StateFile opened = StateFile::open(tmp.path(), "c1"); }
    EXPECT_TRUE(fs::is_regular_file(tmp / "c1"));
}

TEST(StateFile, RemoveDeletesTheFileTheFifoAndAnUnfinishedReplacement) {
    TempDir tmp;
    std::string fifo;
    {
        StateFile file = StateFile::create(tmp.path(), "c1");
        Record r = record_for("c1", 1, 1);
        file.save(r);
        file.make_exec_fifo(r);
        fifo = file.fifo_path();
        file.keep();
    }
    EXPECT_TRUE(is_exec_fifo_name(fs::path(fifo).filename().string())) << fifo;
    struct stat st {};
    ASSERT_EQ(::stat(fifo.c_str(), &st), 0);
    EXPECT_TRUE(S_ISFIFO(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0622u);
    // a large save cut short by SIGKILL
    std::ofstream(tmp / (":state.new." + std::to_string(inode_of(tmp / "c1")))) << "{\"id\":";
    StateFile file = StateFile::open(tmp.path(), "c1");
    EXPECT_EQ(file.fifo_path(), fifo);
    file.remove();
    EXPECT_TRUE(fs::is_empty(tmp.path()));
    EXPECT_TRUE(ThrowsError([&] { StateFile::open(tmp.path(), "c1"); }, "does not exist"));
}

// The --root flag is used as given (cli/main.cpp): a relative root such as `--root state`
// must be created relative to the working directory, as runc does (it makes --root absolute).
// make_dirs() builds "/" + part, so it creates "/<root>" at the filesystem root instead.
TEST(StateFile, RelativeRootIsRelativeToTheWorkingDirectory) {
    TempDir tmp;
    std::string rel = "crunlite-unit-relroot-" + std::to_string(getpid());
    std::string cwd = fs::current_path().string();
    ASSERT_EQ(::chdir(tmp.path().c_str()), 0);
    bool created = false;
    std::string error;
    try {
        StateFile file = StateFile::create(rel + "/state", "c1");
        created = true;
    } catch (const std::exception& e) {
        error = e.what();
    }
    ASSERT_EQ(::chdir(cwd.c_str()), 0);
    bool stray = fs::exists("/" + rel);
    std::error_code ec;
    fs::remove_all("/" + rel, ec);  // undo what the bug leaves behind
    EXPECT_TRUE(created) << error;
    EXPECT_TRUE(fs::is_directory(tmp / (rel + "/state")));
    EXPECT_FALSE(stray) << "created /" << rel << " at the filesystem root";
}

// ---------------------------------------------------------------------------------------------
// status() and state_json()

TEST(StateFile, StatusFollowsInitAndTheFifo) {
    TempDir tmp;
    StateFile file = StateFile::create(tmp.path(), "c1");
    uint64_t me = start_time_of(getpid());
    file.save(record_for("c1", getpid(), me));
    EXPECT_EQ(file.status(), Status::running);
    Record r = record_for("c1", getpid(), me);
    file.make_exec_fifo(r);
    EXPECT_EQ(file.status(), Status::created);
    EXPECT_NE(read_file(tmp / "c1").find("\"exec_fifo\":\"" + r.exec_fifo + "\""), std::string::npos);  // saved
    r.pid_start_time = me + 1;  // same pid, another process: recycled
    file.save(r);
    EXPECT_EQ(file.status(), Status::stopped);
    r.pid = r.pid_start_time = 0;
    file.save(r);
    EXPECT_EQ(file.status(), Status::stopped);
    r.pid = getpid();
    r.pid_start_time = me;
    file.save(r);
    EXPECT_EQ(file.status(), Status::created);
    ASSERT_EQ(::unlink(file.fifo_path().c_str()), 0);  // `start` took it
    EXPECT_EQ(file.status(), Status::running);
}

TEST(StateFile, StateJsonHasTheRuntimeSpecFields) {
    TempDir tmp;
    StateFile file = StateFile::create(tmp.path(), "c1");
    file.save(record_for("c1", getpid(), start_time_of(getpid())));
    nlohmann::json s = file.state_json();
    EXPECT_EQ(s.at("ociVersion"), "1.2.0");
    EXPECT_EQ(s.at("id"), "c1");
    EXPECT_EQ(s.at("pid"), getpid());
    EXPECT_EQ(s.at("status"), "running");
    EXPECT_EQ(s.at("bundle"), "/srv/bundles/c1");
    EXPECT_EQ(s.at("rootfs"), "/srv/bundles/c1/rootfs");
    EXPECT_EQ(s.at("created"), "2024-01-02T03:04:05.123456789Z");
    EXPECT_EQ(s.at("owner"), "root");
    EXPECT_EQ(s.at("annotations").at("org.example.a"), "1");
}

TEST(StateFile, StoppedStateReportsPidZeroAndNoEmptyAnnotations) {
    TempDir tmp;
    StateFile file = StateFile::create(tmp.path(), "c1");
    Record r = record_for("c1", getpid(), start_time_of(getpid()) + 1);
    r.annotations.clear();
    file.save(r);
    nlohmann::json s = file.state_json();
    EXPECT_EQ(s.at("status"), "stopped");
    EXPECT_EQ(s.at("pid"), 0);
    EXPECT_FALSE(s.contains("annotations"));
}

// ---------------------------------------------------------------------------------------------
// list_ids

TEST(ListIds, MissingRootIsEmpty) {
    TempDir tmp;
    EXPECT_TRUE(list_ids(tmp / "does-not-exist").empty());
}

// State files only: not a directory (as an older crun-lite made), a fifo or a replacement.
TEST(ListIds, SortedStateFilesOnly) {
    TempDir tmp;
    for (const char* id : {"zeta", "alpha", "Mid", "m2"}) std::ofstream(tmp / id) << "{}";
    ASSERT_TRUE(fs::create_directory(tmp / "a-directory"));
    ASSERT_EQ(::mkfifo((tmp / ":exec.fifo.0123456789abcdef").c_str(), 0600), 0);
    std::ofstream(tmp / ":state.new.12") << "x";
    ASSERT_EQ(::symlink("zeta", (tmp / "link").c_str()), 0);
    EXPECT_EQ(list_ids(tmp.path()), (std::vector<std::string>{"Mid", "alpha", "m2", "zeta"}));
}

TEST(ListIds, SeesCreatedContainers) {
    TempDir tmp;
    {
        StateFile a = StateFile::create(tmp.path(), "b");
        a.keep();
        StateFile b = StateFile::create(tmp.path(), "a");
        b.keep();
    }
    EXPECT_EQ(list_ids(tmp.path()), (std::vector<std::string>{"a", "b"}));
}

TEST(ListIds, RootThatIsAFileIsAnError) {
    TempDir tmp;
    std::ofstream(tmp / "file") << "x";
    EXPECT_TRUE(ThrowsError([&] { list_ids(tmp / "file"); }, "open"));
}

}  // namespace
}  // namespace crunlite::state
