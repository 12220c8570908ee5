#include "crunlite/error.hpp"

#include <cstring>

namespace crunlite {

std::string Error::errno_text(int err) {
    char buf[128];
    // GNU strerror_r returns the message pointer, which may or may not be buf.
    return strerror_r(err, buf, sizeof buf);
}

}  // namespace crunlite
