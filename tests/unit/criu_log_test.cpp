// criu::decisive_error: the one line a failed CRIU run is reported by.
#include <gtest/gtest.h>

#include "criu/criu.hpp"

namespace crunlite::criu {
namespace {

TEST(CriuLog, CheckOutputGivesTheCauseNotTheConsequences) {
    const char* log =
        "Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds\n"
        "Error (criu/vdso.c:613): vdso: Failed to fill self vdso symtable\n"
        "Error (criu/kerndat.c:1615): kerndat_vdso_fill_symtable failed when initializing kerndat.\n"
        "Error (criu/crtools.c:260): Could not initialize kernel features detection.\n";
    EXPECT_EQ(decisive_error(log), "vdso: Unexpected rt vDSO area bounds");
}

TEST(CriuLog, TheLastClusterOfErrorsDecides) {
    const char* log =
        "(00.001000) Error (criu/a.c:1): an early complaint CRIU went on after\n"
        "(00.002000) mnt: collecting mounts\n"
        "(00.002100) mnt: 1\n"
        "(00.002200) mnt: 2\n"
        "(00.002300) mnt: 3\n"
        "(00.002400) mnt: 4\n"
        "(00.003000) Error (criu/files-reg.c:12): Can't lookup mount=42 for fd=1 path=/tmp/x\n"
        "(00.003050) fdinfo: a line between\n"
        "(00.003100) Error (criu/cr-dump.c:9): Dump files (pid: 7) failed with -1\n"
        "(00.004000) Unfreezing tasks into 1\n"
        "(00.005000) Error (criu/cr-dump.c:2053): Dumping FAILED.\n";
    EXPECT_EQ(decisive_error(log), "Can't lookup mount=42 for fd=1 path=/tmp/x");
}

TEST(CriuLog, NoErrorLineGivesNothing) {
    EXPECT_EQ(decisive_error("(00.001) Dumping finished successfully\n"), "");
    EXPECT_EQ(decisive_error(""), "");
}

}  // namespace
}  // namespace crunlite::criu
