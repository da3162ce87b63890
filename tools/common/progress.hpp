#pragma once
// A one-line progress bar on stderr: done/total, rate and ETA, redrawn at most 10 times a second.
// Shown when stderr is a terminal, or when forced (--progress); silent otherwise.
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace micse::cli {

class Progress {
public:
    // total 0: unknown (rate only). `unit` names what is counted ("sentences").
    Progress(std::uint64_t total, std::string unit, bool force = false)
        : total_(total), unit_(std::move(unit)), enabled_(force || ::isatty(STDERR_FILENO)),
          start_(std::chrono::steady_clock::now()) {}
    ~Progress() { finish(); }

    void set_total(std::uint64_t total) { total_ = total; }

    void advance(std::uint64_t n) {
        done_ += n;
        const auto now = std::chrono::steady_clock::now();
        if (enabled_ && now - last_ > std::chrono::milliseconds(100)) {
            last_ = now;
            draw(now);
        }
    }

    void finish() {
        if (!enabled_ || finished_) return;
        finished_ = true;
        draw(std::chrono::steady_clock::now());
        std::fputc('\n', stderr);
    }

private:
    void draw(std::chrono::steady_clock::time_point now) const {
        const double seconds = std::chrono::duration<double>(now - start_).count();
        const double rate = seconds > 0 ? double(done_) / seconds : 0.0;
        char line[160];
        if (total_ > 0) {
            const double f = std::min(1.0, double(done_) / double(total_));
            const int width = 30, filled = int(f * width);
            const double eta = rate > 0 ? double(total_ - std::min(done_, total_)) / rate : 0.0;
            std::snprintf(line, sizeof line, "\r[%s%s] %3.0f%% %llu/%llu %s, %.1f/s, ETA %s",
                          std::string(std::size_t(filled), '#').c_str(), std::string(std::size_t(width - filled), '.').c_str(),
                          100 * f, (unsigned long long)done_, (unsigned long long)total_, unit_.c_str(), rate,
                          clock(eta).c_str());
        } else {
            std::snprintf(line, sizeof line, "\r%llu %s, %.1f/s, %s elapsed", (unsigned long long)done_, unit_.c_str(),
                          rate, clock(seconds).c_str());
        }
        std::fputs(line, stderr);
        std::fflush(stderr);
    }
    static std::string clock(double s) {
        const auto t = (unsigned long long)(s + 0.5);
        char b[32];
        std::snprintf(b, sizeof b, "%llu:%02llu:%02llu", t / 3600, t / 60 % 60, t % 60);
        return b;
    }

    std::uint64_t total_, done_ = 0;
    std::string unit_;
    bool enabled_, finished_ = false;
    std::chrono::steady_clock::time_point start_, last_{};
};

}  // namespace micse::cli
