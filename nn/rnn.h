// Recurrent layers with torch.nn's names: RNN (tanh / relu), LSTM, GRU, their cells, and
// PackedSequence for variable-length batches.
//
// Parameters are named and laid out exactly as PyTorch's, so a PyTorch state_dict loads
// unchanged: weight_ih_l{k}[_reverse] [G*H, in], weight_hh_l{k}[_reverse] [G*H, H],
// bias_ih_l{k}[_reverse], bias_hh_l{k}[_reverse] [G*H], with G*H rows stacked in gate order
// i, f, g, o (LSTM), r, z, n (GRU). All are initialized from U(-1/sqrt(H), 1/sqrt(H)).
//
// Each layer and direction projects the whole input sequence with one GEMM and runs the fused
// recurrence of ops/rnn.h (one GEMM per step plus a fused gate kernel, in both passes).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "core/arg.h"
#include "nn/module.h"
#include "ops/rnn.h"

namespace minidl::nn {

// ---------------------------------------------------------------- packed sequences

// A batch of variable-length sequences packed time step by time step (torch's PackedSequence):
// data [sum(lengths), *] holds step 0 of every sequence, then step 1 of those still running, ...;
// batch_sizes [T] (int64) counts the sequences running at each step. The batch inside is sorted
// by decreasing length; sorted_indices / unsorted_indices (int64 [B]) map between that order and
// the caller's, and are undefined when the input was already sorted (enforce_sorted).
struct PackedSequence {
  Tensor data;
  Tensor batch_sizes;
  Tensor sorted_indices;
  Tensor unsorted_indices;
};

// Packs input [T, B, *] ([B, T, *] if batch_first) whose sequence b has lengths[b] valid steps
// (each in [1, T]). enforce_sorted: lengths must be non-increasing (error otherwise); else the
// batch is sorted here and the permutation kept. Differentiable in input.
PackedSequence pack_padded_sequence(const Tensor& input, const std::vector<int64_t>& lengths,
                                    bool batch_first = false, bool enforce_sorted = true);
PackedSequence pack_padded_sequence(const Tensor& input, const Tensor& lengths,
                                    bool batch_first = false, bool enforce_sorted = true);

// The inverse: (padded [T, B, *] or [B, T, *], lengths int64 [B]) in the caller's batch order,
// padded with padding_value up to total_length steps (-1: the longest length; otherwise it must
// be at least that). Differentiable in sequence.data.
std::pair<Tensor, Tensor> pad_packed_sequence(const PackedSequence& sequence,
                                              bool batch_first = false, double padding_value = 0.0,
                                              int64_t total_length = -1);

// ---------------------------------------------------------------- options

// Builder-style constructor arguments, as libtorch's: LSTMOptions(10, 20).num_layers(2).
// nonlinearity: "tanh" or "relu".
struct RNNOptions {
  RNNOptions(int64_t input_size, int64_t hidden_size)
      : input_size_(input_size), hidden_size_(hidden_size) {}
  MINIDL_ARG(int64_t, input_size);
  MINIDL_ARG(int64_t, hidden_size);
  MINIDL_ARG(int64_t, num_layers) = 1;
  MINIDL_ARG(std::string, nonlinearity) = "tanh";
  MINIDL_ARG(bool, bias) = true;
  MINIDL_ARG(bool, batch_first) = false;
  MINIDL_ARG(double, dropout) = 0.0;
  MINIDL_ARG(bool, bidirectional) = false;
};

// input_size, hidden_size (required); num_layers 1, bias, batch_first false, dropout 0,
// bidirectional false, proj_size 0 (no projection; else in [1, hidden_size)).
struct LSTMOptions {
  LSTMOptions(int64_t input_size, int64_t hidden_size)
      : input_size_(input_size), hidden_size_(hidden_size) {}
  MINIDL_ARG(int64_t, input_size);
  MINIDL_ARG(int64_t, hidden_size);
  MINIDL_ARG(int64_t, num_layers) = 1;
  MINIDL_ARG(bool, bias) = true;
  MINIDL_ARG(bool, batch_first) = false;
  MINIDL_ARG(double, dropout) = 0.0;
  MINIDL_ARG(bool, bidirectional) = false;
  MINIDL_ARG(int64_t, proj_size) = 0;
};

// input_size, hidden_size (required); num_layers 1, bias, batch_first, dropout, bidirectional.
struct GRUOptions {
  GRUOptions(int64_t input_size, int64_t hidden_size)
      : input_size_(input_size), hidden_size_(hidden_size) {}
  MINIDL_ARG(int64_t, input_size);
  MINIDL_ARG(int64_t, hidden_size);
  MINIDL_ARG(int64_t, num_layers) = 1;
  MINIDL_ARG(bool, bias) = true;
  MINIDL_ARG(bool, batch_first) = false;
  MINIDL_ARG(double, dropout) = 0.0;
  MINIDL_ARG(bool, bidirectional) = false;
};

// input_size, hidden_size (required); bias true, nonlinearity "tanh" (or "relu").
struct RNNCellOptions {
  RNNCellOptions(int64_t input_size, int64_t hidden_size)
      : input_size_(input_size), hidden_size_(hidden_size) {}
  MINIDL_ARG(int64_t, input_size);
  MINIDL_ARG(int64_t, hidden_size);
  MINIDL_ARG(bool, bias) = true;
  MINIDL_ARG(std::string, nonlinearity) = "tanh";
};

// input_size, hidden_size (required); bias true.
struct LSTMCellOptions {
  LSTMCellOptions(int64_t input_size, int64_t hidden_size)
      : input_size_(input_size), hidden_size_(hidden_size) {}
  MINIDL_ARG(int64_t, input_size);
  MINIDL_ARG(int64_t, hidden_size);
  MINIDL_ARG(bool, bias) = true;
};

// input_size, hidden_size (required); bias true.
struct GRUCellOptions {
  GRUCellOptions(int64_t input_size, int64_t hidden_size)
      : input_size_(input_size), hidden_size_(hidden_size) {}
  MINIDL_ARG(int64_t, input_size);
  MINIDL_ARG(int64_t, hidden_size);
  MINIDL_ARG(bool, bias) = true;
};

// ---------------------------------------------------------------- multi-layer recurrent layers
//
// Call shapes are libtorch's (std::tuple results, so `auto [output, h_n] = gru->forward(x);`):
//   RNN / GRU  forward(input, h0 = {})            -> (output, h_n)
//   LSTM       forward(input, (h0, c0) or {})     -> (output, (h_n, c_n))
// As in libtorch they return a tuple even when called with the input alone, so they cannot sit
// in a Sequential: take std::get<0>(lstm->forward(x)) for the output.

// What RNN, LSTM and GRU share: parameters, shape checks, the stack of layers and directions.
class RNNBase : public Module {
 public:
  // mode: "RNN_TANH", "RNN_RELU", "LSTM" or "GRU"; proj_size > 0 only for "LSTM".
  RNNBase(const std::string& type_name, const std::string& mode, int64_t input_size,
          int64_t hidden_size, int64_t num_layers, bool bias, bool batch_first, double dropout,
          bool bidirectional, int64_t proj_size = 0);

  std::string extra_repr() const override;

  const int64_t input_size, hidden_size, num_layers;
  const bool bias, batch_first;
  const double dropout;
  const bool bidirectional;
  // LSTM with a projected hidden state (torch's proj_size; 0 = none): see LSTM.
  const int64_t proj_size;

 protected:
  struct Result {
    Tensor output, h_n, c_n;
  };
  // input [T, B, in] / [B, T, in] / unbatched [T, in]; h0 [L*D, B, S], c0 [L*D, B, H]
  // ([L*D, S] / [L*D, H] unbatched) or undefined (zeros), S = proj_size or H. Output
  // [T, B, D*S] in the input's layout.
  Result forward_padded(const Tensor& input, const Tensor& h0, const Tensor& c0);
  Result forward_packed(const PackedSequence& input, const Tensor& h0, const Tensor& c0,
                        PackedSequence& output);

 private:
  // x [T, B, in] time-major; h0 [L*D, B, S], c0 [L*D, B, H] or undefined.
  Result run_layers(const Tensor& x, const Tensor& h0, const Tensor& c0,
                    const std::vector<int64_t>& batch_sizes);
  // Errors unless state is undefined or [L*D, B, size] ([L*D, size] unbatched) of the
  // parameters' dtype.
  void check_state(const Tensor& state, const char* what, int64_t batch, bool batched,
                   int64_t size) const;
  // The size of the hidden state h: proj_size, or hidden_size without projection.
  int64_t state_size() const { return proj_size > 0 ? proj_size : hidden_size; }

  std::string mode_;
  int64_t gates_;
  struct LayerWeights {
    Tensor w_ih, w_hh, b_ih, b_hh, w_hr;  // w_hr: LSTM's projection [P, H], or undefined
  };
  std::vector<LayerWeights> weights_;  // index layer * D + direction
};

// torch.nn.RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act = tanh or relu.
class RNN : public RNNBase {
 public:
  RNN(int64_t input_size, int64_t hidden_size, int64_t num_layers = 1,
      const std::string& nonlinearity = "tanh", bool bias = true, bool batch_first = false,
      double dropout = 0.0, bool bidirectional = false);
  explicit RNN(const RNNOptions& options)
      : RNN(options.input_size(), options.hidden_size(), options.num_layers(),
            options.nonlinearity(), options.bias(), options.batch_first(), options.dropout(),
            options.bidirectional()) {}
  // (output, h_n); h0 [L*D, B, H] or undefined for zeros.
  std::tuple<Tensor, Tensor> forward(const Tensor& input, Tensor h0 = {});
  std::pair<PackedSequence, Tensor> forward(const PackedSequence& input,
                                            const Tensor& h0 = Tensor());
  std::tuple<PackedSequence, Tensor> forward_with_packed_input(const PackedSequence& input,
                                                               Tensor h0 = {});
  const std::string nonlinearity;
  RNNOptions options;
};

// torch.nn.LSTM, gates i, f, g, o: c_t = f * c_{t-1} + i * g, h_t = o * tanh(c_t).
// With proj_size P > 0 (torch's LSTM with projections, Sak et al. 2014), each layer and direction
// has weight_hr_l{k}[_reverse] [P, H] and h_t = (o * tanh(c_t)) W_hr^T is P wide: weight_hh is
// [4H, P], h0 / h_n are [L*D, B, P] (c stays [L*D, B, H]), the output is [T, B, D*P] and the
// next layer's input D*P wide.
class LSTM : public RNNBase {
 public:
  using State = std::pair<Tensor, Tensor>;  // (h [L*D, B, S], c [L*D, B, H]), S = P or H
  LSTM(int64_t input_size, int64_t hidden_size, int64_t num_layers = 1, bool bias = true,
       bool batch_first = false, double dropout = 0.0, bool bidirectional = false,
       int64_t proj_size = 0);
  explicit LSTM(const LSTMOptions& options);
  // (output, (h_n, c_n)); hx = (h0, c0), absent for zeros.
  std::tuple<Tensor, std::tuple<Tensor, Tensor>> forward(
      const Tensor& input, std::optional<std::tuple<Tensor, Tensor>> hx = {});
  std::pair<PackedSequence, State> forward(const PackedSequence& input, const State& hx = {});
  std::tuple<PackedSequence, std::tuple<Tensor, Tensor>> forward_with_packed_input(
      const PackedSequence& input, std::optional<std::tuple<Tensor, Tensor>> hx = {});
  LSTMOptions options;
};

// torch.nn.GRU, gates r, z, n: n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),
// h_t = (1 - z) * n + z * h_{t-1}.
class GRU : public RNNBase {
 public:
  GRU(int64_t input_size, int64_t hidden_size, int64_t num_layers = 1, bool bias = true,
      bool batch_first = false, double dropout = 0.0, bool bidirectional = false);
  explicit GRU(const GRUOptions& options)
      : GRU(options.input_size(), options.hidden_size(), options.num_layers(), options.bias(),
            options.batch_first(), options.dropout(), options.bidirectional()) {}
  // input [T, B, in] ([B, T, in] batch_first, [T, in] unbatched), h0 [L*D, B, H] or undefined ->
  // (output [T, B, D*H] in the input's layout, h_n [L*D, B, H]); packed input -> packed output.
  std::tuple<Tensor, Tensor> forward(const Tensor& input, Tensor h0 = {});
  std::pair<PackedSequence, Tensor> forward(const PackedSequence& input,
                                            const Tensor& h0 = Tensor());
  std::tuple<PackedSequence, Tensor> forward_with_packed_input(const PackedSequence& input,
                                                               Tensor h0 = {});
  GRUOptions options;
};

// ---------------------------------------------------------------- single-step cells

// Parameters weight_ih [G*H, in], weight_hh [G*H, H], bias_ih, bias_hh [G*H], as PyTorch's cells.
class RNNCellBase : public Module {
 public:
  RNNCellBase(const std::string& type_name, int64_t input_size, int64_t hidden_size, bool bias,
              int64_t gates);
  std::string extra_repr() const override;
  const int64_t input_size, hidden_size;
  const bool bias;
  Tensor weight_ih, weight_hh, bias_ih, bias_hh;

 protected:
  // input [B, in] or [in] -> (x W_ih^T + b_ih as [B, G*H], batched?); checks shapes.
  std::pair<Tensor, bool> project(const Tensor& input) const;
  // A state [B, H] (or [H] unbatched), zeros when undefined; checks its shape.
  Tensor state(const Tensor& hx, int64_t batch, bool batched, const char* what) const;
};

// torch.nn.RNNCell: h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh); input [B, in] or [in] -> [B, H].
class RNNCell : public RNNCellBase {
 public:
  RNNCell(int64_t input_size, int64_t hidden_size, bool bias = true,
          const std::string& nonlinearity = "tanh");
  explicit RNNCell(const RNNCellOptions& options)
      : RNNCell(options.input_size(), options.hidden_size(), options.bias(),
                options.nonlinearity()) {}
  std::string extra_repr() const override;
  // h' (libtorch's forward(input, hx = {})); hx undefined for zeros.
  Tensor forward(const Tensor& input) override;
  Tensor forward(const Tensor& input, const Tensor& hx);
  const std::string nonlinearity;
  RNNCellOptions options;
};

// torch.nn.LSTMCell: one LSTM step; input [B, in] or [in], (h, c) [B, H] -> (h', c') [B, H].
class LSTMCell : public RNNCellBase {
 public:
  LSTMCell(int64_t input_size, int64_t hidden_size, bool bias = true);
  explicit LSTMCell(const LSTMCellOptions& options)
      : LSTMCell(options.input_size(), options.hidden_size(), options.bias()) {}
  // (h', c'); hx = (h, c), absent for zeros. As libtorch's, a tuple even for the input alone (so
  // an LSTMCell cannot sit in a Sequential).
  std::tuple<Tensor, Tensor> forward(const Tensor& input,
                                     std::optional<std::tuple<Tensor, Tensor>> hx = {});
  LSTMCellOptions options;
};

// torch.nn.GRUCell: one GRU step; input [B, in] or [in], h [B, H] -> h' [B, H].
class GRUCell : public RNNCellBase {
 public:
  GRUCell(int64_t input_size, int64_t hidden_size, bool bias = true);
  explicit GRUCell(const GRUCellOptions& options)
      : GRUCell(options.input_size(), options.hidden_size(), options.bias()) {}
  // h' (libtorch's forward(input, hx = {})); hx undefined for zeros.
  Tensor forward(const Tensor& input) override;
  Tensor forward(const Tensor& input, const Tensor& hx);
  GRUCellOptions options;
};

}  // namespace minidl::nn
