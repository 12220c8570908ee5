// The container's terminal: a pty pair from the container's own devpts instance, the
// slave bound onto /dev/console and made the process's controlling terminal; the master
// goes to the runtime (then to --console-socket, or to a foreground run's own terminal).
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include "crunlite/error.hpp"
#include "sys/in_root.hpp"
#include "init/init_steps.hpp"
#include "sys/mount_api.hpp"

namespace crunlite::init {

Pty open_container_pty(int root_fd, const spec::Process& process) {
    Pty pty;
    pty.master = sys::open_in_root(root_fd, "/dev/pts/ptmx", O_RDWR | O_NOCTTY);
    if (!pty.master) throw Error(".process.terminal: open /dev/pts/ptmx in the container (is devpts mounted on /dev/pts?)", errno);
    struct statfs fs{};
    struct stat st{};
    if (::fstatfs(pty.master.get(), &fs) != 0 || fs.f_type != DEVPTS_SUPER_MAGIC || ::fstat(pty.master.get(), &st) != 0 ||
        !S_ISCHR(st.st_mode))
        throw Error(".process.terminal: /dev/pts/ptmx in the container is not a devpts multiplexer");
    int unlock = 0;
    if (::ioctl(pty.master.get(), TIOCSPTLCK, &unlock) != 0) throw Error(".process.terminal: unlock the pty", errno);
    // The peer comes from the master itself, not from a /dev/pts/N path an image could redirect.
    pty.slave.reset(::ioctl(pty.master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!pty.slave) throw Error(".process.terminal: open the pty peer", errno);
    if (process.console_size) {
        winsize size{};
        size.ws_row = static_cast<unsigned short>(process.console_size->height);
        size.ws_col = static_cast<unsigned short>(process.console_size->width);
        if (::ioctl(pty.slave.get(), TIOCSWINSZ, &size) != 0) throw Error(".process.consoleSize: set the terminal size", errno);
    }
    if (::fchown(pty.slave.get(), process.user.uid, process.user.gid) != 0 && errno != EINVAL)
        throw Error(".process.terminal: chown the pty to the process user", errno);
    return pty;
}

void bind_console(int root_fd, int slave_fd) {
    UniqueFd target = sys::make_file_in_root(root_fd, "/dev/console");
    UniqueFd mount = sys::clone_tree(slave_fd, "", false, "/dev/console");
    sys::attach(mount.get(), target.get(), "/dev/console");
}

void make_controlling_terminal(UniqueFd slave) {
    if (::setsid() < 0) throw Error("setsid", errno);
    if (::ioctl(slave.get(), TIOCSCTTY, 0) != 0) throw Error("make the pty the controlling terminal", errno);
    for (int fd = 0; fd <= 2; ++fd)
        if (::dup2(slave.get(), fd) < 0) throw Error("dup2 the pty onto stdio", errno);
}

}  // namespace crunlite::init
