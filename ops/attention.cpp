// Scaled dot-product attention (torch.nn.functional.scaled_dot_product_attention):
//
//   out = softmax(q kᵀ * scale + mask) v          scale = 1 / sqrt(E) unless given
//
//   q [..., Tq, E]   k [..., Tk, E]   v [..., Tk, Ev]   ->   out [..., Tq, Ev]
//
// Follows "Attention Is All You Need" (Vaswani et al. 2017, eq. 1) and PyTorch 2.x's
// F.scaled_dot_product_attention for the masks (see ops/attention.h). This file holds the
// argument checks, the mask preparation and the math path (matmul -> masked_softmax -> dropout ->
// matmul, each step recorded by autograd); the fused path is ops/flash_attention.cpp.
#include "ops/attention.h"

#include <cmath>

#include "core/error.h"
#include "core/factories.h"
#include "core/shape.h"
#include "ops/compare.h"
#include "ops/dropout.h"
#include "ops/elementwise.h"
#include "ops/flash_attention.h"
#include "ops/linalg.h"
#include "ops/softmax.h"

namespace minidl {

namespace {

constexpr const char* kOp = "scaled_dot_product_attention";

Shape leading(const Shape& s) {
  return Shape(s.begin(), s.end() - 2);
}

// The checks shared by both paths; returns the broadcast leading dims of q, k and v.
Shape check_inputs(const Tensor& q, const Tensor& k, const Tensor& v, const SdpaOptions& o) {
  MINIDL_CHECK(q.defined() && k.defined() && v.defined(), kOp,
               "query, key and value must be defined");
  MINIDL_CHECK(q.dim() >= 2 && k.dim() >= 2 && v.dim() >= 2, kOp,
               "query, key and value need at least 2 dims [..., T, E], got query "
                   << shape_str(q.shape()) << ", key " << shape_str(k.shape()) << ", value "
                   << shape_str(v.shape()));
  MINIDL_CHECK(q.is_floating_point() && q.dtype() == k.dtype() && q.dtype() == v.dtype(), kOp,
               "query, key and value must have the same floating dtype, got "
                   << q.dtype() << ", " << k.dtype() << ", " << v.dtype());
  MINIDL_CHECK(q.size(-1) == k.size(-1), kOp,
               "query and key must have the same feature size E, got query "
                   << shape_str(q.shape()) << " and key " << shape_str(k.shape()));
  MINIDL_CHECK(k.size(-2) == v.size(-2), kOp,
               "key and value must have the same length Tk, got key "
                   << shape_str(k.shape()) << " and value " << shape_str(v.shape()));
  Shape lead;
  try {
    lead = broadcast_shapes(broadcast_shapes(leading(q.shape()), leading(k.shape()), kOp),
                            leading(v.shape()), kOp);
  } catch (const Error&) {
    MINIDL_CHECK(false, kOp,
                 "the leading dims of query " << shape_str(q.shape()) << ", key "
                                              << shape_str(k.shape()) << " and value "
                                              << shape_str(v.shape()) << " do not broadcast");
  }
  MINIDL_CHECK(o.dropout_p >= 0.0 && o.dropout_p <= 1.0, kOp,
               "dropout_p must be in [0, 1], got " << o.dropout_p);
  MINIDL_CHECK(!o.scale || std::isfinite(*o.scale), kOp, "scale must be finite, got " << *o.scale);
  const int64_t tq = q.size(-2), tk = k.size(-2);
  Shape score_shape = lead;
  score_shape.push_back(tq);
  score_shape.push_back(tk);
  if (o.attn_mask.defined()) {
    const Tensor& m = o.attn_mask;
    MINIDL_CHECK(m.dtype() == kBool || m.is_floating_point(), kOp,
                 "attn_mask must be bool (true = attend) or floating (added to the scores), got "
                     << m.dtype() << " of shape " << shape_str(m.shape()));
    bool ok = m.dim() <= static_cast<int64_t>(score_shape.size());
    if (ok) {
      const size_t off = score_shape.size() - m.shape().size();
      for (size_t i = 0; i < m.shape().size(); ++i)
        ok = ok && (m.shape()[i] == 1 || m.shape()[i] == score_shape[off + i]);
    }
    MINIDL_CHECK(ok, kOp,
                 "attn_mask of shape " << shape_str(m.shape())
                                       << " does not broadcast to the scores' shape "
                                       << shape_str(score_shape) << " [..., Tq, Tk]");
  }
  if (o.key_padding_mask.defined()) {
    const Tensor& m = o.key_padding_mask;
    MINIDL_CHECK(m.dtype() == kBool, kOp,
                 "key_padding_mask must be bool (true = padded), got " << m.dtype() << " of shape "
                                                                       << shape_str(m.shape()));
    const int64_t b = lead.empty() ? 1 : lead[0];
    MINIDL_CHECK(m.dim() == 2 && m.size(0) == b && m.size(1) == tk, kOp,
                 "key_padding_mask has shape " << shape_str(m.shape()) << ", expected [" << b
                                               << ", " << tk << "] (batch, keys) for the scores "
                                               << shape_str(score_shape));
  }
  return lead;
}

// key_padding_mask [B, Tk] viewed so it broadcasts over scores of rank `rank`: [B, 1.., 1, Tk].
Tensor padding_as_scores(const Tensor& kpm, size_t rank) {
  Shape s(rank, 1);
  s[rank - 1] = kpm.size(1);
  if (rank >= 3) s[0] = kpm.size(0);
  return kpm.reshape(s);
}

// [Tq, Tk] bool, true where key j is after query i (excluded by is_causal).
Tensor causal_exclusion(int64_t tq, int64_t tk) {
  Tensor m = empty({tq, tk}, kBool);
  bool* p = m.data_ptr<bool>();
  for (int64_t i = 0; i < tq; ++i)
    for (int64_t j = 0; j < tk; ++j) p[i * tk + j] = j > i;
  return m;
}

Tensor or_mask(const Tensor& a, const Tensor& b) {
  if (!a.defined()) return b;
  if (!b.defined()) return a;
  return logical_or(a, b);
}

// The math path records no node of its own: the tape holds mul (q * scale), matmul (q kᵀ), add
// (a float mask), masked_softmax, dropout and matmul (P v), and backward chains their formulas:
//   dV = Pᵀ dO ;  dP = dO Vᵀ (through dropout: * mask / (1 - p)) ;
//   dS = P * (dP - rowsum(dP * P))  (MaskedSoftmaxBackward0, ops/softmax.cpp) ;
//   dQ = dS K * scale ;  dK = dSᵀ Q * scale ;  d attn_mask (float) = dS summed to its shape
// -- the same gradients as FlashAttentionBackward0 (ops/flash_attention.cpp, with the
// derivation), but P [.., Tq, Tk] is saved on the tape: O(Tq Tk) memory against the fused
// kernel's O(T), which instead recomputes P from the saved logsumexp.
SdpaResult sdpa_math(const Tensor& q, const Tensor& k, const Tensor& v, const Shape& lead,
                     const SdpaOptions& o, double scale) {
  const size_t rank = lead.size() + 2;
  // scores = (q * scale) kᵀ (+ float mask): scaling q touches Tq*E values instead of Tq*Tk
  Tensor scores = matmul(scale == 1.0 ? q : mul(q, scale), k.transpose(-2, -1));
  Tensor excluded;  // bool, true = excluded; broadcastable to the scores
  if (o.attn_mask.defined()) {
    if (o.attn_mask.dtype() == kBool)
      excluded = logical_not(o.attn_mask);
    else
      scores =
          add(scores, o.attn_mask.dtype() == q.dtype() ? o.attn_mask : o.attn_mask.to(q.dtype()));
  }
  if (o.key_padding_mask.defined())
    excluded = or_mask(excluded, padding_as_scores(o.key_padding_mask, rank));
  if (o.is_causal) excluded = or_mask(excluded, causal_exclusion(q.size(-2), k.size(-2)));
  // Scores broadcast to every leading dim before the softmax (the mask may carry more of them).
  Shape score_shape = lead;
  score_shape.push_back(q.size(-2));
  score_shape.push_back(k.size(-2));
  if (scores.shape() != score_shape) scores = scores.expand(score_shape).contiguous();
  Tensor weights = masked_softmax(scores, excluded, -1);
  if (o.dropout_p > 0.0) weights = dropout(weights, o.dropout_p, true, o.generator);
  SdpaResult r;
  r.output = matmul(weights, v);
  Shape out_shape = lead;
  out_shape.push_back(q.size(-2));
  out_shape.push_back(v.size(-1));
  if (r.output.shape() != out_shape) r.output = r.output.expand(out_shape).contiguous();
  if (o.need_weights) r.weights = weights;
  return r;
}

}  // namespace

SdpaResult scaled_dot_product_attention(const Tensor& query, const Tensor& key, const Tensor& value,
                                        const SdpaOptions& options) {
  const Shape lead = check_inputs(query, key, value, options);
  MINIDL_CHECK(!(options.need_weights && options.backend == SdpaBackend::Fused), kOp,
               "SdpaBackend::Fused does not materialize the weights: need_weights requires "
               "SdpaBackend::Math or Auto");
  const double scale =
      options.scale ? *options.scale : 1.0 / std::sqrt(static_cast<double>(query.size(-1)));
  const bool fused_ok = flash_attention_supported(query, key, value, options);
  bool fused = false;
  switch (options.backend) {
    case SdpaBackend::Math:
      fused = false;
      break;
    case SdpaBackend::Fused:
      MINIDL_CHECK(fused_ok, kOp,
                   "the fused backend does not support these inputs (dropout_p > 0 is computed "
                   "by the math path); use SdpaBackend::Auto or Math");
      fused = true;
      break;
    case SdpaBackend::Auto:
      fused = fused_ok && !options.need_weights;
      break;
  }
  if (!fused) return sdpa_math(query, key, value, lead, options, scale);
  SdpaResult r;
  r.output = flash_attention(query, key, value, options.attn_mask, options.key_padding_mask,
                             options.is_causal, scale);
  return r;
}

Tensor scaled_dot_product_attention(const Tensor& query, const Tensor& key, const Tensor& value,
                                    const Tensor& attn_mask, double dropout_p, bool is_causal,
                                    std::optional<double> scale) {
  SdpaOptions o;
  o.attn_mask = attn_mask;
  o.dropout_p = dropout_p;
  o.is_causal = is_causal;
  o.scale = scale;
  return scaled_dot_product_attention(query, key, value, o).output;
}

}  // namespace minidl
