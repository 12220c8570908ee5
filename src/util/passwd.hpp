// The user name of a uid from /etc/passwd, read directly (as runc does): glibc's NSS, behind
// getpwuid, cannot be loaded by a static binary. Empty when the file has no such uid.
#pragma once
#include <sys/types.h>

#include <string>

namespace crunlite {

std::string passwd_user_name(uid_t uid);

}  // namespace crunlite
