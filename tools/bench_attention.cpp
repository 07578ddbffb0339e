// The attention workloads of BENCHMARKS.md: W6 (a multi-head attention training step), W6L
// (one long sequence through scaled dot-product attention), each with a correctness check of
// the path it timed against the materialized (math) attention, and W8 (an attention seq2seq
// training step).
#include <cmath>

#include "minidl.h"
#include "tools/bench_workloads.h"

namespace bench {

namespace {

double max_abs_diff(const minidl::Tensor& a, const minidl::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

}  // namespace

// W6: MultiheadAttention(256, 8 heads, batch_first), input [8, 512, 256] (no gradient), self-
// attention with need_weights = false (so the fused kernel runs), backward of output.sum() into
// the parameters. Checked: the output equals the one with need_weights = true (math path).
Json run_mha_step(const RunOptions& options) {
  using namespace minidl;
  manual_seed(0);
  nn::MultiheadAttentionOptions mha_options(256, 8);
  mha_options.batch_first(true);
  auto mha = std::make_shared<nn::MultiheadAttention>(mha_options);
  Tensor x = randn({8, 512, 256});
  Tensor out;
  Json res = run_timed(
      [&] {
        mha->zero_grad(/*set_to_none=*/true);
        out = std::get<0>(mha->forward(x, x, x, Tensor(), /*need_weights=*/false));
        out.sum().backward();
      },
      options.min_time);
  res["peak_rss_mib"] = peak_rss_mib();  // of the timed steps, not of the check's math path
  NoGradGuard no_grad;
  Tensor reference = std::get<0>(mha->forward(x, x, x, Tensor(), /*need_weights=*/true));
  const double diff = max_abs_diff(out, reference);
  res["max_abs_diff_vs_math"] = diff;
  if (!(diff <= 1e-4))
    res["error"] = "fused output differs from the math path by " + std::to_string(diff);
  return res;
}

// W6L: q, k, v [1, T, 64] requiring gradients; out = scaled_dot_product_attention(q, k, v),
// backward of out.sum(). The fused kernel never holds the T x T scores. Checked: the first 64
// query rows against the math path on those rows alone (rows are independent), output and dq.
Json run_long_attention(const RunOptions& options) {
  using namespace minidl;
  const int64_t T = options.seq > 0 ? options.seq : 4096, d = 64;
  manual_seed(0);
  Tensor q = randn({1, T, d}).requires_grad_(), k = randn({1, T, d}).requires_grad_(),
         v = randn({1, T, d}).requires_grad_();
  Tensor out;
  Json res = run_timed(
      [&] {
        q.zero_grad(), k.zero_grad(), v.zero_grad();
        out = scaled_dot_product_attention(q, k, v);
        out.sum().backward();
      },
      options.min_time, /*budget=*/60.0);
  res["peak_rss_mib"] = peak_rss_mib();
  res["seq"] = T;
  // forward 2 matmuls + backward 4 matmuls of 2 T² d flops each (the work of the math path)
  const double flops = 6.0 * 2.0 * static_cast<double>(T) * T * d;
  res["matmul_gflops_median"] = flops / (res["ms_median"].get<double>() * 1e-3) / 1e9;

  Tensor q_head = q.detach().slice(1, 0, 64).requires_grad_();
  SdpaOptions math;
  math.backend = SdpaBackend::Math;
  Tensor reference = scaled_dot_product_attention(q_head, k.detach(), v.detach(), math).output;
  reference.sum().backward();
  const double diff = std::max(max_abs_diff(out.detach().slice(1, 0, 64), reference.detach()),
                               max_abs_diff(q.grad().slice(1, 0, 64), q_head.grad()));
  res["max_abs_diff_vs_math"] = diff;
  if (!(diff <= 1e-4))
    res["error"] = "fused attention differs from the math path by " + std::to_string(diff);
  return res;
}

// W8: Embedding(1000, 64) -> LSTM encoder (128); decoder LSTMCell(64 + 128 -> 128) unrolled 20
// steps with teacher forcing and additive attention (nn::BahdanauAttention: the keys' projection
// once per batch, the fused score per step); Linear(128 -> 1000) once on all steps; batch 64,
// cross-entropy, Adam. Checked: the loss on the fixed batch goes down.
Json run_nmt_step(const RunOptions& options) {
  using namespace minidl;
  static constexpr int64_t V = 1000, E = 64, H = 128, B = 64, TS = 20, TT = 20;
  manual_seed(0);
  struct Seq2Seq : nn::Module {
    Seq2Seq() : Module("Seq2Seq") {
      src_emb = register_module("src_emb", std::make_shared<nn::Embedding>(V, E));
      tgt_emb = register_module("tgt_emb", std::make_shared<nn::Embedding>(V, E));
      enc = register_module("enc", std::make_shared<nn::LSTM>(E, H, 1, true, /*batch_first=*/true));
      cell = register_module("cell", std::make_shared<nn::LSTMCell>(E + H, H));
      attention = register_module("attention", std::make_shared<nn::BahdanauAttention>(H, H, H));
      out = register_module("out", std::make_shared<nn::Linear>(H, V));
    }
    Tensor forward(const Tensor& src, const Tensor& tgt_in) {
      auto [enc_out, state] = enc->forward((*src_emb)(src));
      Tensor h = std::get<0>(state).select(0, 0), c = std::get<1>(state).select(0, 0);
      Tensor keys = attention->precompute_keys(enc_out);  // [B, TS, H]
      Tensor emb = (*tgt_emb)(tgt_in);                    // [B, TT, E]
      std::vector<Tensor> hs;
      for (int64_t t = 0; t < tgt_in.shape()[1]; ++t) {
        Tensor context = attention->forward_precomputed(h, keys, enc_out).output;  // [B, H]
        std::tie(h, c) = cell->forward(cat({emb.select(1, t), context}, 1), std::make_tuple(h, c));
        hs.push_back(h);
      }
      return (*out)(stack(hs, 1));  // [B, TT, V]
    }
    std::shared_ptr<nn::Embedding> src_emb, tgt_emb;
    std::shared_ptr<nn::LSTM> enc;
    std::shared_ptr<nn::LSTMCell> cell;
    std::shared_ptr<nn::BahdanauAttention> attention;
    std::shared_ptr<nn::Linear> out;
  };
  auto model = std::make_shared<Seq2Seq>();
  optim::Adam optimizer(model->parameters(), optim::AdamOptions(1e-3));
  Tensor src = randint(0, V, {B, TS}), tgt_in = randint(0, V, {B, TT}),
         tgt_out = randint(0, V, {B, TT});
  std::vector<double> losses;
  Json res = run_timed(
      [&] {
        optimizer.zero_grad();
        Tensor logits = model->forward(src, tgt_in);
        Tensor loss = cross_entropy(logits.reshape({-1, V}), tgt_out.reshape({-1}));
        loss.backward();
        optimizer.step();
        losses.push_back(loss.item<double>());
      },
      options.min_time);
  res["loss_first"] = losses.front();
  res["loss_last"] = losses.back();
  if (!(losses.back() < losses.front())) res["error"] = "the loss did not decrease";
  return res;
}

}  // namespace bench
