#include "sys/executable_search.hpp"

namespace crunlite::sys {

std::vector<std::string> executable_candidates(const std::string& name, const std::vector<std::string>& env) {
    if (name.find('/') != std::string::npos) return {name};
    std::string search = kDefaultSearchPath;
    for (auto& e : env)
        if (e.rfind("PATH=", 0) == 0) search = e.substr(5);
    std::vector<std::string> out;
    size_t pos = 0;
    while (pos <= search.size()) {
        size_t end = search.find(':', pos);
        if (end == std::string::npos) end = search.size();
        std::string dir = search.substr(pos, end - pos);
        pos = end + 1;
        out.push_back((dir.empty() ? "." : dir) + "/" + name);
    }
    return out;
}

}  // namespace crunlite::sys
