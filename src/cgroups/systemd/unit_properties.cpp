#include "cgroups/systemd/unit_properties.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

#include "cgroups/resource_writes.hpp"
#include "crunlite/error.hpp"
#include "util/text.hpp"

namespace crunlite::cgroups::systemd {
namespace {

constexpr std::string_view kAnnotationPrefix = "org.systemd.property.";

// runc's conversion of memory+swap (v1 semantics) to the swap alone (v2's MemorySwapMax).
std::optional<uint64_t> swap_only(const spec::Memory& m) {
    if (!m.swap) return std::nullopt;
    if (*m.swap < 0) return kInfinity;
    if (!m.limit || *m.limit <= 0) return std::nullopt;  // the file writer says what is wrong
    if (*m.swap < *m.limit) return std::nullopt;
    return uint64_t(*m.swap - *m.limit);
}

}  // namespace

std::vector<uint8_t> cpu_list_to_mask(const std::string& list, const std::string& json_path) {
    // Blanks around the numbers are taken, as the kernel takes them in a cpuset file.
    std::vector<unsigned> numbers;
    std::string problem = text::parse_number_list(text::trim_number_list(list), 65536, numbers);
    if (!problem.empty()) throw SpecError(json_path, "\"" + list + "\" is not a list such as \"0-2,4\": " + problem);
    std::vector<uint8_t> mask;
    for (unsigned n : numbers) {
        if (mask.size() <= n / 8) mask.resize(n / 8 + 1, 0);
        mask[n / 8] |= uint8_t(1u << (n % 8));
    }
    return mask;
}

std::vector<UnitProperty> scope_properties(const std::string& container_id, const std::string& slice, bool is_slice) {
    std::vector<UnitProperty> props = {{"Description", "crun-lite container " + container_id}};
    // A slice names its parent by its own name; a scope says which slice holds it.
    if (!is_slice) props.push_back({"Slice", slice});
    props.push_back({"Delegate", true});
    // Without dependencies on the default targets, a scope made during shutdown or early boot
    // neither waits for them nor holds them up.
    props.push_back({"DefaultDependencies", false});
    for (const char* accounting : {"MemoryAccounting", "CPUAccounting", "IOAccounting", "TasksAccounting"})
        props.push_back({accounting, true});
    // A scope that ends "failed" (its init was OOM-killed, a signal) is collected as well: the
    // container's delete stops the unit, and nothing must stay listed after it.
    props.push_back({"CollectMode", std::string("inactive-or-failed")});
    return props;
}

std::vector<UnitProperty> resource_properties(const spec::Resources& r) {
    std::vector<UnitProperty> props;
    if (r.memory) {
        const spec::Memory& m = *r.memory;
        if (m.limit && *m.limit != 0) props.push_back({"MemoryMax", *m.limit < 0 ? kInfinity : uint64_t(*m.limit)});
        if (m.reservation && *m.reservation != 0)
            props.push_back({"MemoryLow", *m.reservation < 0 ? kInfinity : uint64_t(*m.reservation)});
        if (auto swap = swap_only(m)) props.push_back({"MemorySwapMax", *swap});
    }
    if (r.cpu) {
        const spec::Cpu& c = *r.cpu;
        if (c.shares && *c.shares != 0) props.push_back({"CPUWeight", cpu_shares_to_weight(*c.shares)});
        if ((c.quota && *c.quota != 0) || (c.period && *c.period != 0)) {
            uint64_t period = c.period && *c.period ? *c.period : 100000;  // the kernel's default period
            props.push_back({"CPUQuotaPeriodUSec", period});
            if (c.quota && *c.quota > 0) {
                // systemd keeps the quota as a share of one second, and rounds it to 10 ms steps
                // when it writes cpu.max: round up here, so that the limit is never tighter than asked.
                uint64_t per_sec = uint64_t(*c.quota) * 1000000 / period;
                if (per_sec % 10000) per_sec = (per_sec / 10000 + 1) * 10000;
                props.push_back({"CPUQuotaPerSecUSec", per_sec});
            } else if (c.quota && *c.quota < 0) {
                props.push_back({"CPUQuotaPerSecUSec", kInfinity});
            }
        }
        if (!c.cpus.empty()) props.push_back({"AllowedCPUs", cpu_list_to_mask(c.cpus, ".linux.resources.cpu.cpus")});
        if (!c.mems.empty()) props.push_back({"AllowedMemoryNodes", cpu_list_to_mask(c.mems, ".linux.resources.cpu.mems")});
    }
    if (r.pids_limit && *r.pids_limit != 0) props.push_back({"TasksMax", *r.pids_limit < 0 ? kInfinity : uint64_t(*r.pids_limit)});
    if (r.block_io && r.block_io->weight && *r.block_io->weight)
        props.push_back({"IOWeight", blkio_weight_to_io_weight(*r.block_io->weight)});
    return props;
}

namespace {

// A GVariant text value, the forms runc's annotations use: booleans, numbers with an optional
// type word (a bare integer is an int32, as in GVariant), quoted strings and arrays of them.
class GVariantText {
public:
    GVariantText(const std::string& text, const std::string& json_path) : text_(text), json_path_(json_path) {}

    PropertyValue parse() {
        skip_space();
        PropertyValue value = parse_value();
        skip_space();
        if (pos_ != text_.size()) fail("unexpected text after the value");
        return value;
    }

private:
    [[noreturn]] void fail(const std::string& why) const {
        throw SpecError(json_path_, "\"" + text_ + "\" is not a GVariant value systemd takes here: " + why +
                                        " (examples: \"uint64 123\", \"true\", \"'text'\", \"['a', 'b']\")");
    }
    void skip_space() {
        while (pos_ < text_.size() && std::isspace((unsigned char)text_[pos_])) ++pos_;
    }
    bool take_word(std::string_view word) {
        if (text_.compare(pos_, word.size(), word) != 0) return false;
        size_t after = pos_ + word.size();
        if (after < text_.size() && (std::isalnum((unsigned char)text_[after]) || text_[after] == '_')) return false;
        pos_ = after;
        return true;
    }
    std::string parse_string() {
        char quote = text_[pos_++];
        std::string out;
        while (pos_ < text_.size() && text_[pos_] != quote) {
            if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) ++pos_;
            out += text_[pos_++];
        }
        if (pos_ >= text_.size()) fail("a string is not closed");
        ++pos_;
        return out;
    }
    template <typename T>
    T parse_integer() {
        skip_space();
        int64_t sign = 1;
        if (pos_ < text_.size() && (text_[pos_] == '-' || text_[pos_] == '+')) sign = text_[pos_++] == '-' ? -1 : 1;
        uint64_t magnitude = 0;
        auto [end, ec] = std::from_chars(text_.data() + pos_, text_.data() + text_.size(), magnitude);
        if (ec != std::errc()) fail("not a number");
        pos_ = size_t(end - text_.data());
        if constexpr (std::is_unsigned_v<T>) {
            if (sign < 0 || magnitude > std::numeric_limits<T>::max()) fail("the number does not fit its type");
            return T(magnitude);
        } else {
            if (magnitude > uint64_t(std::numeric_limits<T>::max()) + (sign < 0 ? 1 : 0)) fail("the number does not fit its type");
            return sign < 0 ? T(-int64_t(magnitude - 1) - 1) : T(magnitude);
        }
    }
    PropertyValue parse_value() {
        if (pos_ >= text_.size()) fail("no value");
        if (take_word("true")) return true;
        if (take_word("false")) return false;
        if (text_[pos_] == '\'' || text_[pos_] == '"') return parse_string();
        if (text_[pos_] == '[') return parse_array();
        if (take_word("byte")) return parse_integer<uint8_t>();
        if (take_word("int16")) return parse_integer<int16_t>();
        if (take_word("uint16")) return parse_integer<uint16_t>();
        if (take_word("int32")) return parse_integer<int32_t>();
        if (take_word("uint32")) return parse_integer<uint32_t>();
        if (take_word("int64")) return parse_integer<int64_t>();
        if (take_word("uint64")) return parse_integer<uint64_t>();
        if (take_word("double")) {
            skip_space();
            return parse_double();
        }
        if (text_.find_first_of(".eE", pos_) != std::string::npos) return parse_double();
        return parse_integer<int32_t>();
    }
    double parse_double() {
        size_t used = 0;
        double d = 0;
        try {
            d = std::stod(text_.substr(pos_), &used);
        } catch (const std::exception&) {
            fail("not a number");
        }
        pos_ += used;
        return d;
    }
    std::vector<std::string> parse_array() {
        ++pos_;  // '['
        std::vector<std::string> items;
        skip_space();
        if (pos_ < text_.size() && text_[pos_] == ']') {
            ++pos_;
            return items;
        }
        for (;;) {
            skip_space();
            if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"')) fail("only arrays of strings are taken");
            items.push_back(parse_string());
            skip_space();
            if (pos_ < text_.size() && text_[pos_] == ',') {
                ++pos_;
                continue;
            }
            if (pos_ < text_.size() && text_[pos_] == ']') {
                ++pos_;
                return items;
            }
            fail("an array is not closed");
        }
    }

    const std::string& text_;
    const std::string& json_path_;
    size_t pos_ = 0;
};

// A time in seconds (any numeric type) as microseconds.
std::optional<uint64_t> seconds_to_usec(const PropertyValue& value) {
    return std::visit(
        [](auto&& v) -> std::optional<uint64_t> {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, bool>) return std::nullopt;
            else if constexpr (std::is_arithmetic_v<T>) {
                if (v < 0) return std::nullopt;
                double usec = double(v) * 1e6;
                return usec >= 1.8e19 ? kInfinity : uint64_t(usec);
            } else return std::nullopt;
        },
        value);
}

}  // namespace

std::vector<UnitProperty> annotation_properties(const std::map<std::string, std::string>& annotations) {
    std::vector<UnitProperty> props;
    for (auto it = annotations.lower_bound(std::string(kAnnotationPrefix)); it != annotations.end(); ++it) {
        const std::string& key = it->first;
        if (key.compare(0, kAnnotationPrefix.size(), kAnnotationPrefix) != 0) break;
        std::string name = key.substr(kAnnotationPrefix.size());
        std::string path = ".annotations[\"" + key + "\"]";
        // Property names are CamelCase words; anything else is a typo systemd would refuse later,
        // after the scope was half made.
        if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) { return std::isalpha((unsigned char)c); }))
            throw SpecError(path, "\"" + name + "\" is not a systemd property name (letters only, such as TimeoutStopUSec)");
        PropertyValue value = GVariantText(it->second, path).parse();
        // "TimeoutStopSec" (a lowercase letter before "Sec"; not "...USec") is in seconds.
        if (name.size() > 3 && name.compare(name.size() - 3, 3, "Sec") == 0 && std::islower((unsigned char)name[name.size() - 4])) {
            auto usec = seconds_to_usec(value);
            if (!usec) throw SpecError(path, "a *Sec property takes a number of seconds");
            name = name.substr(0, name.size() - 3) + "USec";
            value = *usec;
        }
        props.push_back({name, value});
    }
    return props;
}

std::string to_text(const PropertyValue& value) {
    return std::visit(
        [](auto&& v) -> std::string {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, bool>) return v ? "yes" : "no";
            else if constexpr (std::is_same_v<T, uint64_t>) return v == kInfinity ? "infinity" : std::to_string(v);
            else if constexpr (std::is_same_v<T, double>) return std::to_string(v);
            else if constexpr (std::is_arithmetic_v<T>) return std::to_string(int64_t(v));
            else if constexpr (std::is_same_v<T, std::string>) return v;
            else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
                std::string out;
                for (auto& s : v) out += (out.empty() ? "" : " ") + s;
                return out;
            } else if constexpr (std::is_same_v<T, std::vector<uint8_t>>) {
                // A CPU mask, as a list: "0-2 7".
                std::string out;
                int start = -1;
                size_t bits = v.size() * 8;
                for (size_t i = 0; i <= bits; ++i) {
                    bool set = i < bits && (v[i / 8] >> (i % 8)) & 1;
                    if (set && start < 0) start = int(i);
                    if (!set && start >= 0) {
                        out += (out.empty() ? "" : " ") + std::to_string(start) + (int(i) - 1 > start ? "-" + std::to_string(i - 1) : "");
                        start = -1;
                    }
                }
                return out;
            } else {
                std::string out;
                for (auto n : v) out += (out.empty() ? "" : " ") + std::to_string(n);
                return out;
            }
        },
        value);
}

}  // namespace crunlite::cgroups::systemd
