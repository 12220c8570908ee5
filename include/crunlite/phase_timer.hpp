// Durations of the phases of a container start, for the --debug timeline. Marking a phase
// neither allocates nor fails, so it is safe between clone and exec.
#pragma once
#include <time.h>

#include <cstdio>
#include <string>

namespace crunlite {

class PhaseTimer {
public:
    PhaseTimer() { last_ = now_us(); }

    // Records the time since the previous mark (or construction) under `name`.
    void mark(const char* name) {
        long long t = now_us();
        if (count_ < kMax) phases_[count_++] = {name, t - last_};
        last_ = t;
    }

    // "parse=120us cgroups=340us ..."
    std::string summary() const {
        std::string out;
        char buf[96];
        for (int i = 0; i < count_; ++i) {
            snprintf(buf, sizeof buf, "%s%s=%lldus", i ? " " : "", phases_[i].name, phases_[i].micros);
            out += buf;
        }
        return out;
    }

private:
    static long long now_us() {
        timespec ts{};
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
    }
    static constexpr int kMax = 32;
    struct Phase {
        const char* name;
        long long micros;
    } phases_[kMax] = {};
    int count_ = 0;
    long long last_;
};

}  // namespace crunlite
