#pragma once
#include <nlohmann/json.hpp>

#include "crunlite/spec.hpp"
#include "spec/json_field.hpp"

namespace crunlite::spec {
// Each broken rule is thrown (the default Collector) or recorded.
void check_cross_field_rules(const Spec& spec, const Collector& c = Collector());
}  // namespace crunlite::spec
