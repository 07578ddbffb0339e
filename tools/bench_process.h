// What both benchmark tools (tools/bench.cpp, tools/bench_distributed.cpp) measure about the
// machine and their own process, and how they start the child processes they time.
#pragma once

#include <string>
#include <vector>

namespace bench {

// A monotonic clock in seconds.
double now_seconds();
// Non-idle CPU seconds of the whole machine so far, from /proc/stat (user nice system irq
// softirq steal), to tell how much other processes competed with a measurement; -1 when it
// cannot be read.
double machine_busy_seconds();
// Waits (at most max_wait seconds) until other processes use less than `threshold` CPUs over a
// one-second window, like torch_bench.py's wait_quiet. Returns the last load seen.
double wait_quiet(double max_wait, double threshold = 0.1);
// Peak resident memory of this process so far, MiB.
double peak_rss_mib();
// The median of v (the mean of the middle two for an even count; 0 for none).
double median(std::vector<double> v);
// In a forked child: adds `env` ("KEY=VALUE") to the environment and executes argv[0] with
// argv; if that fails, says so on stderr and exits with 127.
[[noreturn]] void exec_child(const std::vector<std::string>& argv,
                             const std::vector<std::string>& env);

}  // namespace bench
