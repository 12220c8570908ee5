// runc parses its command line with Go's flag package, which takes a long option with one dash
// as well as with two, and callers rely on it: containerd's runc client passes `restore
// -no-subreaper`. CLI11 reads "-no-subreaper" as a cluster of short options and refuses it.
#pragma once
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace crunlite::cli {

// Rewrites in place each word "-name" or "-name=value" (name of two or more characters) that
// names a long option of `app` (before the command) or of the command, to "--name...". The options'
// values are stepped over, never rewritten; so are the words after the container ID of a command
// that takes a command line of its own (exec, ps): they belong to the program the container runs.
// `storage` keeps the rewritten words.
void accept_single_dash_long_options(const CLI::App& app, int argc, char** argv, std::vector<std::string>& storage);

}  // namespace crunlite::cli
