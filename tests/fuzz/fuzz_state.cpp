// libFuzzer target: state.json bytes -> state::Record, exactly as StateFile::open reads them
// (state::read_record). A Record that reads back must also survive what StateFile::save does
// with it: record_to_json, dump, and reading that again gives the same record.
//
// Anything but a crunlite::Error escaping is a bug, as are ASan/UBSan reports.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>

#include "crunlite/error.hpp"
#include "crunlite/state.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
    crunlite::state::Record record;
    try {
        record = crunlite::state::read_record(in, "fuzz");
    } catch (const crunlite::Error&) {
        return 0;
    }
    nlohmann::json saved = crunlite::state::record_to_json(record);
    std::istringstream again(saved.dump());
    crunlite::state::Record reread = crunlite::state::read_record(again, "fuzz");
    if (crunlite::state::record_to_json(reread) != saved) std::abort();
    return 0;
}
