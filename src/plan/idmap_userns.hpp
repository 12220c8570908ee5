#pragma once
#include <string>
#include <vector>

#include "crunlite/spec.hpp"
#include "crunlite/unique_fd.hpp"

namespace crunlite::planning {

// A user namespace with these mappings, for an idmapped mount; `what` names the mount in errors.
UniqueFd make_user_namespace(const std::vector<spec::IdMapping>& uid_mappings, const std::vector<spec::IdMapping>& gid_mappings,
                             const std::string& what);

}  // namespace crunlite::planning
