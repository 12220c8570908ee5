#include <sys/stat.h>

#include "cli/commands.hpp"
#include "crunlite/error.hpp"
#include "crunlite/spec.hpp"
#include "crunlite/state.hpp"

namespace crunlite::cli {

void add_spec(CLI::App& app, Globals&, Action& action) {
    auto* cmd = app.add_subcommand("spec", "write a default config.json into the bundle");
    auto bundle = std::make_shared<std::string>(".");
    auto rootless = std::make_shared<bool>(false);
    cmd->add_option("-b,--bundle", *bundle, "bundle directory to write config.json into")->type_name(kDir)->capture_default_str();
    cmd->add_flag("--rootless", *rootless, "a config for a container run by an unprivileged user (in a user namespace)");
    document(cmd, {.text = "The config runs `sh` from the bundle's `rootfs` directory with a terminal, in new namespaces "
                           "with runc's default capabilities, mounts, masked paths and devices. Edit it (process.args, "
                           "terminal, mounts...) before `create` or `run`. spec refuses to overwrite an existing "
                           "config.json."});
    cmd->callback([=, &action] {
        action = [=] {
            std::string path = *bundle + "/config.json";
            struct stat st{};
            if (::stat(path.c_str(), &st) == 0) throw Error("File " + path + " exists. Remove it first");
            state::write_file_atomically(path, spec::default_spec(*rootless).dump(4) + "\n");
            return 0;
        };
    });
}

}  // namespace crunlite::cli
