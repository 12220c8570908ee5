// linux.intelRdt as config.json gives it (config-linux.md "IntelRdt", runtime-spec 1.3).
#pragma once
#include "crunlite/spec.hpp"
#include "spec/json_field.hpp"

namespace crunlite::spec {

IntelRdt parse_intel_rdt(const JsonField& field);

}  // namespace crunlite::spec
