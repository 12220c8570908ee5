#include "passwd.hpp"

#include <fstream>

namespace crunlite {

std::string passwd_user_name(uid_t uid) {
    std::ifstream passwd("/etc/passwd");
    std::string uid_text = std::to_string(uid);
    for (std::string line; std::getline(passwd, line);) {
        auto first = line.find(':'), second = line.find(':', first + 1), third = line.find(':', second + 1);
        if (third != std::string::npos && line.compare(second + 1, third - second - 1, uid_text) == 0)
            return line.substr(0, first);
    }
    return "";
}

}  // namespace crunlite
