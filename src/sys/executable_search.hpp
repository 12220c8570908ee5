// Where .process.args[0] is looked for: the same rule for init (which execs it) and `check`
// (which reports what init would find).
#pragma once
#include <string>
#include <vector>

namespace crunlite::sys {

// Where .process.args[0] is looked for, in order: itself when it holds a '/'; otherwise in each
// directory of PATH (the last PATH= of env, else kDefaultSearchPath), an empty entry meaning
// the working directory (".").
constexpr const char* kDefaultSearchPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
std::vector<std::string> executable_candidates(const std::string& name, const std::vector<std::string>& env);

}  // namespace crunlite::sys
