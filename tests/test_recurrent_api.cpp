// libtorch's call shapes of the recurrent and attention modules (nn/rnn.h,
// nn/attention/multihead.h): std::tuple results, optional initial states, and state passing
// from one call to the next giving the same result as one call over the whole sequence.

#include <tuple>

#include "tests/test_util.h"

using namespace minidl;
using minidl::testing::allclose;

TEST_CASE("LSTM::forward: (output, (h_n, c_n)) with and without an initial state",
          "[recurrent-api]") {
  manual_seed(1);
  nn::LSTM lstm(nn::LSTMOptions(3, 4).num_layers(2));
  Tensor x = randn({6, 2, 3});
  std::tuple<Tensor, std::tuple<Tensor, Tensor>> result = lstm.forward(x);
  auto [output, state] = result;
  auto [h_n, c_n] = state;
  CHECK(output.shape() == Shape{6, 2, 4});
  CHECK(h_n.shape() == Shape{2, 2, 4});
  CHECK(c_n.shape() == Shape{2, 2, 4});
  // No state is the zero state.
  Tensor zero = zeros({2, 2, 4});
  auto [output_zero, state_zero] = lstm.forward(x, std::make_tuple(zero, zero));
  CHECK(allclose(output, output_zero, 0, 0));
  CHECK(allclose(std::get<1>(state), std::get<1>(state_zero), 0, 0));
  // Passing the state on: two halves equal the whole sequence.
  auto [first, first_state] = lstm.forward(x.narrow(0, 0, 3));
  auto [second, second_state] = lstm.forward(x.narrow(0, 3, 3), first_state);
  CHECK(allclose(second, output.narrow(0, 3, 3), 1e-5, 1e-6));
  CHECK(allclose(std::get<0>(second_state), h_n, 1e-5, 1e-6));
  CHECK(allclose(std::get<1>(second_state), c_n, 1e-5, 1e-6));
  // The last layer's h_n is the output's last step.
  CHECK(allclose(h_n.select(0, 1), output.select(0, 5), 0, 0));
}

TEST_CASE("GRU and RNN forward: (output, h_n), h0 optional and passed on", "[recurrent-api]") {
  manual_seed(2);
  nn::GRU gru(nn::GRUOptions(3, 5).batch_first(true));
  nn::RNN rnn(nn::RNNOptions(3, 5).nonlinearity("relu"));
  Tensor x = randn({2, 6, 3});
  auto [gru_output, gru_h] = gru.forward(x);
  CHECK(gru_output.shape() == Shape{2, 6, 5});
  CHECK(gru_h.shape() == Shape{1, 2, 5});
  auto [gru_first, gru_first_h] = gru.forward(x.narrow(1, 0, 4));
  auto [gru_second, gru_second_h] = gru.forward(x.narrow(1, 4, 2), gru_first_h);
  CHECK(allclose(gru_second, gru_output.narrow(1, 4, 2), 1e-5, 1e-6));
  CHECK(allclose(gru_second_h, gru_h, 1e-5, 1e-6));

  Tensor sequence = x.transpose(0, 1);  // [T, B, in]
  std::tuple<Tensor, Tensor> rnn_result = rnn.forward(sequence);
  auto [rnn_output, rnn_h] = rnn_result;
  CHECK(rnn_output.shape() == Shape{6, 2, 5});
  auto [step, step_h] = rnn.forward(sequence.narrow(0, 0, 1));
  auto [rest, rest_h] = rnn.forward(sequence.narrow(0, 1, 5), step_h);
  CHECK(allclose(rest_h, rnn_h, 1e-5, 1e-6));
  CHECK(allclose(step, rnn_output.narrow(0, 0, 1), 0, 0));
}

TEST_CASE("Cells: LSTMCell returns (h', c'); RNNCell and GRUCell return h'", "[recurrent-api]") {
  manual_seed(3);
  nn::LSTM lstm(3, 4);
  nn::LSTMCell lstm_cell(3, 4);
  lstm_cell.load_state_dict({{"weight_ih", lstm.state_dict()[0].second},
                             {"weight_hh", lstm.state_dict()[1].second},
                             {"bias_ih", lstm.state_dict()[2].second},
                             {"bias_hh", lstm.state_dict()[3].second}});
  Tensor x = randn({3, 2, 3});
  auto [output, state] = lstm.forward(x);
  // Step by step with the cell, starting from no state, equals the layer.
  std::tuple<Tensor, Tensor> cell_state = lstm_cell.forward(x.select(0, 0));
  for (int64_t t = 1; t < 3; ++t) cell_state = lstm_cell.forward(x.select(0, t), cell_state);
  CHECK(allclose(std::get<0>(cell_state), output.select(0, 2), 1e-5, 1e-6));
  CHECK(allclose(std::get<1>(cell_state), std::get<1>(state).select(0, 0), 1e-5, 1e-6));

  nn::GRUCell gru_cell(nn::GRUCellOptions(3, 4));
  Tensor h = gru_cell.forward(x.select(0, 0));
  CHECK(h.shape() == Shape{2, 4});
  CHECK(allclose(gru_cell.forward(x.select(0, 0), Tensor()), h, 0, 0));
  CHECK(gru_cell.forward(x.select(0, 1), h).shape() == Shape{2, 4});
  nn::RNNCell rnn_cell(3, 4);
  Tensor r = rnn_cell.forward(x.select(0, 0));
  CHECK(allclose(rnn_cell.forward(x.select(0, 0), zeros({2, 4})), r, 0, 0));
}

TEST_CASE("Packed input: forward_with_packed_input returns libtorch's tuples", "[recurrent-api]") {
  manual_seed(4);
  nn::LSTM lstm(3, 4);
  Tensor x = randn({4, 2, 3});
  nn::PackedSequence packed = nn::pack_padded_sequence(x, std::vector<int64_t>{4, 2});
  auto [packed_output, state] = lstm.forward_with_packed_input(packed);
  auto [pair_output, pair_state] = lstm.forward(packed);
  CHECK(allclose(packed_output.data, pair_output.data, 0, 0));
  CHECK(allclose(std::get<0>(state), pair_state.first, 0, 0));
  nn::GRU gru(3, 4);
  auto [gru_output, gru_h] = gru.forward_with_packed_input(packed);
  CHECK(gru_h.shape() == Shape{1, 2, 4});
  CHECK(gru_output.data.shape() == Shape{6, 4});
}

TEST_CASE("MultiheadAttention::forward returns (output, weights)", "[recurrent-api]") {
  manual_seed(5);
  nn::MultiheadAttention mha(nn::MultiheadAttentionOptions(8, 2));
  Tensor q = randn({3, 2, 8}), kv = randn({5, 2, 8});
  std::tuple<Tensor, Tensor> result = mha.forward(q, kv, kv);
  auto [output, weights] = result;
  CHECK(output.shape() == Shape{3, 2, 8});
  CHECK(weights.shape() == Shape{2, 3, 5});  // averaged over heads
  auto [per_head_output, per_head] =
      mha.forward(q, kv, kv, Tensor(), /*need_weights=*/true, Tensor(), /*average=*/false);
  CHECK(per_head.shape() == Shape{2, 2, 3, 5});
  CHECK(allclose(per_head.mean({1}), weights, 1e-5, 1e-6));
  auto [fused_output, no_weights] = mha.forward(q, kv, kv, Tensor(), /*need_weights=*/false);
  CHECK_FALSE(no_weights.defined());
  CHECK(allclose(fused_output, output, 1e-5, 1e-6));
}
