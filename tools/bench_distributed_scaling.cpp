// bench_distributed's models of the measurements: the alpha/beta fit of the all-reduce times, the
// on-machine scaling summary of the model runs, and the scaling model that extrapolates them to
// N machines, with its table and JSON lines.
//
// The fit: t = alpha + 2(N-1)/N * bytes * beta by least squares on the RELATIVE error (weights
// 1/t^2), so the microsecond sizes fix alpha as much as the 64 MiB ones fix beta.
//
// Scaling model: see predict() and docs/distributed.md.
#include <algorithm>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "tools/bench_distributed.h"

namespace bench_distributed {

// t = alpha + c * bytes * beta, c = 2(N-1)/N, by least squares on (t_model - t) / t:
// minimise sum_i w_i (alpha + x_i beta - t_i)^2 with x_i = c bytes_i, w_i = 1 / t_i^2, the
// 2x2 normal equations [sum w, sum w x; sum w x, sum w x^2] [alpha; beta] = [sum w t; sum w x t].
Fit fit_alpha_beta(const std::vector<Json>& sizes) {
  Fit f;
  double sw = 0, swx = 0, swxx = 0, swt = 0, swxt = 0;
  for (const Json& j : sizes) {
    const int n = j["ranks"].get<int>();
    const double x = 2.0 * (n - 1) / n * j["bytes"].get<double>();
    const double t = j["median_us"].get<double>() * 1e-6;
    const double w = 1.0 / (t * t);
    sw += w;
    swx += w * x;
    swxx += w * x * x;
    swt += w * t;
    swxt += w * x * t;
  }
  const double det = sw * swxx - swx * swx;
  if (sizes.size() < 2 || !(det > 0)) return f;
  f.alpha = (swxx * swt - swx * swxt) / det;
  f.beta = (sw * swxt - swx * swt) / det;
  f.ok = f.beta > 0;
  for (const Json& j : sizes) {
    const int n = j["ranks"].get<int>();
    const double x = 2.0 * (n - 1) / n * j["bytes"].get<double>();
    const double t = j["median_us"].get<double>() * 1e-6;
    f.worst_relative = std::max(f.worst_relative, std::fabs(f.alpha + x * f.beta - t) / t);
  }
  return f;
}

// Per model, from this machine's measurements (see docs/distributed.md for the reasoning):
//   T_step(N) = T_compute + max(0, T_allreduce(N) - overlap)
//   T_allreduce(N) = 2(N-1)/N * G / bw + 2(N-1) * alpha_hop * buckets
// G = gradient bytes; a ring all-reduce is N-1 reduce-scatter steps and N-1 all-gather steps,
// each sending G/N bytes to the next machine and paying one hop's latency, per bucket.
// T_compute: the 1 rank x 2 threads step time (a machine like this one runs one rank on its
// cores). bw = link rate * efficiency, capped at the bus bandwidth this CPU reached over shared
// memory (1/beta of the fit): the reduction and the copies run on the same cores.
// overlap = 0: the measured models are one bucket at the default 25 MiB, which starts when
// backward ends; the "overlapped" figure is the bound when the all-reduce hides under all of
// backward, which several buckets started from the gradient hooks approach (data_parallel.h).
//
// The scaling model above for every model measured on 1 rank x 2 threads, N = 2, 8, 64, at 10
// and 100 Gbit/s.
std::vector<Prediction> predict(const std::map<std::string, Json>& two_threads, const Fit& fit,
                                const Options& o) {
  std::vector<Prediction> out;
  const double cap = fit.ok ? 1.0 / fit.beta : 0.0;  // bytes per second
  for (const auto& [model, r] : two_threads) {
    for (const auto& [link, gbit, eff] :
         {std::tuple<std::string, double, double>{"10 Gbit/s", 10, o.efficiency_10g},
          std::tuple<std::string, double, double>{"100 Gbit/s", 100, o.efficiency_100g}}) {
      double bw = gbit * 1e9 / 8 * eff;
      if (cap > 0) bw = std::min(bw, cap);
      for (int n : {2, 8, 64}) {
        Prediction p;
        p.model = model;
        p.link = link;
        p.machines = n;
        const double t_compute = r["step_ms"].get<double>() * 1e-3;
        const double backward = r["backward_ms"].get<double>() * 1e-3;
        const double bytes = r["grad_bytes"].get<double>();
        const double buckets = r["buckets"].get<double>();
        const double t_ar =
            2.0 * (n - 1) / n * bytes / bw + 2.0 * (n - 1) * o.hop_latency_us * 1e-6 * buckets;
        p.t_compute_ms = t_compute * 1e3;
        p.t_allreduce_ms = t_ar * 1e3;
        p.efficiency = t_compute / (t_compute + t_ar);
        p.efficiency_overlapped = t_compute / (t_compute + std::max(0.0, t_ar - backward));
        out.push_back(p);
      }
    }
  }
  return out;
}

// Per model, this machine's data parallelism against its threads (kind "local_scaling"):
// measured efficiency = items/s of N ranks / (N x items/s of 1 rank of 1 thread); predicted from
// the fit: T / (T + alpha + 2(N-1)/N * G * beta), T the 1-rank-1-thread step time (overlap 0);
// ranks_vs_threads = items/s of N ranks / items/s of 1 rank of 2 threads.
std::vector<Json> local_scaling(const std::vector<Json>& rows, const Fit& fit) {
  std::map<std::string, std::map<std::pair<int, int>, Json>> by_model;  // (ranks, threads)
  for (const Json& r : rows)
    if (!r.contains("error"))
      by_model[r["model"].get<std::string>()][{r["ranks"].get<int>(), r["threads"].get<int>()}] = r;
  std::vector<Json> out;
  for (const auto& [model, configs] : by_model) {
    const auto one = configs.find({1, 1}), threads = configs.find({1, 2});
    const auto many = std::find_if(configs.begin(), configs.end(),
                                   [](const auto& c) { return c.first.first > 1; });
    if (one == configs.end() || many == configs.end()) continue;
    const int n = many->first.first;
    const double ips1 = one->second["items_per_s"].get<double>();
    const double ipsn = many->second["items_per_s"].get<double>();
    Json j = {{"kind", "local_scaling"},
              {"model", model},
              {"ranks", n},
              {"measured_efficiency", ipsn / (n * ips1)},
              {"finish_ms", many->second["finish_ms"]}};
    if (fit.ok) {
      const double t = one->second["step_ms"].get<double>() * 1e-3;
      const double t_ar =
          fit.alpha + 2.0 * (n - 1) / n * one->second["grad_bytes"].get<double>() * fit.beta;
      j["predicted_efficiency"] = t / (t + t_ar);
      j["predicted_allreduce_ms"] = t_ar * 1e3;
    }
    if (threads != configs.end())
      j["ranks_vs_threads"] = ipsn / threads->second["items_per_s"].get<double>();
    out.push_back(j);
  }
  return out;
}

// The scaling model's assumptions and its efficiency table.
void print_predictions(const std::vector<Prediction>& predictions, const Fit& fit,
                       const Options& o) {
  if (predictions.empty()) return;
  std::cout << "\nscaling model: efficiency T_compute / T_step at N machines (one rank of 2 "
               "threads each, as measured here)\n"
            << "  T_allreduce(N) = 2(N-1)/N * G / bw + 2(N-1) * " << fixed(o.hop_latency_us, 0)
            << " us per hop per bucket; bw = 10 Gbit/s x " << fixed(o.efficiency_10g, 2)
            << " or 100 Gbit/s x " << fixed(o.efficiency_100g, 2);
  if (fit.ok) std::cout << ", at most " << fixed(1e-9 / fit.beta, 2) << " GB/s (1/beta here)";
  std::cout << "; no overlap [overlap with all of backward]\n"
            << std::left << std::setw(19) << "model" << std::setw(12) << "link" << std::right
            << std::setw(12) << "compute ms";
  for (int n : {2, 8, 64})
    std::cout << std::setw(9) << ("AR" + std::to_string(n)) << std::setw(15)
              << ("N=" + std::to_string(n));
  std::cout << "\n";
  for (size_t i = 0; i + 2 < predictions.size(); i += 3) {
    std::cout << std::left << std::setw(19) << predictions[i].model << std::setw(12)
              << predictions[i].link << std::right << std::setw(12)
              << fixed(predictions[i].t_compute_ms, 1);
    for (size_t k = i; k < i + 3; ++k)
      std::cout << std::setw(9) << fixed(predictions[k].t_allreduce_ms, 2) << std::setw(15)
                << (fixed(predictions[k].efficiency, 2) + " [" +
                    fixed(predictions[k].efficiency_overlapped, 2) + "]");
    std::cout << "\n";
  }
  std::cout << "(ARn: predicted all-reduce ms per step at n machines)\n";
}

// One prediction as a JSON line (kind "prediction").
Json prediction_json(const Prediction& p) {
  return {{"kind", "prediction"},
          {"model", p.model},
          {"link", p.link},
          {"machines", p.machines},
          {"compute_ms", p.t_compute_ms},
          {"allreduce_ms", p.t_allreduce_ms},
          {"efficiency", p.efficiency},
          {"efficiency_overlapped", p.efficiency_overlapped}};
}

}  // namespace bench_distributed
