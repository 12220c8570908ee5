#pragma once
#include <nlohmann/json.hpp>

#include "crunlite/spec.hpp"

namespace crunlite::spec {
void check_cross_field_rules(const Spec& spec);
void refuse_unimplemented(const nlohmann::json& config);
}  // namespace crunlite::spec
