// /etc/passwd read directly (as runc does): glibc's NSS, behind getpwuid, cannot be loaded by a
// static binary, and a container's passwd file is not the host's anyway.
#pragma once
#include <sys/types.h>

#include <string>
#include <string_view>

namespace crunlite {

// The user name of a uid in the host's /etc/passwd; empty when the file has no such uid.
std::string passwd_user_name(uid_t uid);

// The home directory of a uid in passwd `content`; "/" when no entry has the uid or its home
// is empty (HOME for a container process, as runc sets it).
std::string passwd_home_directory(std::string_view content, uid_t uid);
// The same from an open passwd file, e.g. one opened inside a container's root; "/" when it
// cannot be read.
std::string passwd_home_directory_from_fd(int passwd_fd, uid_t uid);

}  // namespace crunlite
