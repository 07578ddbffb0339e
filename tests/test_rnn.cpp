// Recurrent ops and layers (ops/rnn.cpp, nn/rnn.cpp): PyTorch fixtures for LSTM / GRU / RNN and
// their cells (outputs, h_n / c_n, gradients of the input, the initial states and every
// parameter), packed sequences, float64 gradchecks of the fused recurrences, and error paths.

#include "nn/rnn.h"
#include "ops/rnn.h"
#include "tests/fixture.h"
#include "tests/test_util.h"

using namespace minidl;
using minidl::testing::allclose;
using minidl::testing::check_gradients;
using minidl::testing::Fixtures;
using minidl::testing::leaf;
using minidl::testing::transposed_leaf;

namespace {

const Fixtures& fixtures() {
  static const Fixtures fx("rnn.txt");
  return fx;
}

// Converts the module to float64 and loads <name>.<param> from the fixture.
void load_case(nn::Module& module, const std::string& name) {
  module.to(kFloat64);
  nn::StateDict state;
  for (const auto& [param, t] : module.named_parameters())
    state.emplace_back(param, fixtures()[name + "." + param]);
  module.load_state_dict(state);
}

// Backpropagates the fixture's loss and checks the results and every gradient.
void check_case(nn::Module& module, const std::string& name, const Tensor& out, const Tensor& hn,
                const Tensor& cn, const Tensor& x,
                const std::vector<std::pair<std::string, Tensor>>& states) {
  const Fixtures& fx = fixtures();
  const double tol = 1e-8;
  Tensor loss = zeros({}, kFloat64);
  if (out.defined()) {
    CHECK(allclose(out, fx[name + "_out"], tol, tol));
    loss = loss + (out * fx[name + "_up"]).sum();
  }
  CHECK(allclose(hn, fx[name + "_hn"], tol, tol));
  loss = loss + (hn * fx[name + "_uph"]).sum();
  if (cn.defined()) {
    CHECK(allclose(cn, fx[name + "_cn"], tol, tol));
    loss = loss + (cn * fx[name + "_upc"]).sum();
  }
  loss.backward();
  CHECK(allclose(x.grad(), fx[name + "_dx"], tol, tol));
  for (const auto& [key, s] : states) {
    INFO(name << " d" << key);
    CHECK(allclose(s.grad(), fx[name + "_d" + key], tol, tol));
  }
  for (const auto& [param, p] : module.named_parameters()) {
    INFO(name << " d" << param);
    REQUIRE(p.grad().defined());
    CHECK(allclose(p.grad(), fx[name + "_d." + param], tol, tol));
  }
}

Tensor fixture_leaf(const std::string& name) {
  return fixtures()[name].clone().requires_grad_();
}

}  // namespace

// ---------------------------------------------------------------- modules vs PyTorch

TEST_CASE("LSTM: 2 layers, bidirectional, initial states, matches PyTorch", "[rnn]") {
  nn::LSTM lstm(3, 3, /*num_layers=*/2, /*bias=*/true, /*batch_first=*/false, 0.0,
                /*bidirectional=*/true);
  load_case(lstm, "lstm");
  Tensor x = fixture_leaf("lstm_x"), h0 = fixture_leaf("lstm_h0"), c0 = fixture_leaf("lstm_c0");
  auto [out, state] = lstm.forward(x, std::make_tuple(h0, c0));
  auto [h_n, c_n] = state;
  CHECK(out.shape() == Shape{4, 2, 6});
  CHECK(h_n.shape() == Shape{4, 2, 3});
  check_case(lstm, "lstm", out, h_n, c_n, x, {{"h0", h0}, {"c0", c0}});
}

TEST_CASE("LSTM: batch_first without initial states matches PyTorch", "[rnn]") {
  nn::LSTM lstm(3, 3, 1, true, /*batch_first=*/true);
  load_case(lstm, "lstm_bf");
  Tensor x = fixture_leaf("lstm_bf_x");
  auto [out, state] = lstm.forward(x);
  CHECK(out.shape() == Shape{2, 4, 3});
  check_case(lstm, "lstm_bf", out, std::get<0>(state), std::get<1>(state), x, {});
}

TEST_CASE("LSTM with proj_size: 2 layers, bidirectional, padded and packed, matches PyTorch",
          "[rnn]") {
  // hidden 4 projected to 2: h0 / h_n [4, B, 2], c0 / c_n [4, B, 4], output [T, B, 2 * 2].
  nn::LSTM lstm(nn::LSTMOptions(3, 4).num_layers(2).bidirectional(true).proj_size(2));
  load_case(lstm, "lstm_proj");
  Tensor x = fixture_leaf("lstm_proj_x"), h0 = fixture_leaf("lstm_proj_h0"),
         c0 = fixture_leaf("lstm_proj_c0");
  auto [out, state] = lstm.forward(x, std::make_tuple(h0, c0));
  auto [h_n, c_n] = state;
  CHECK(out.shape() == Shape{4, 2, 4});
  CHECK(h_n.shape() == Shape{4, 2, 2});
  CHECK(c_n.shape() == Shape{4, 2, 4});
  check_case(lstm, "lstm_proj", out, h_n, c_n, x, {{"h0", h0}, {"c0", c0}});

  // Packed, lengths 2, 4, 3 (not sorted): rows past their length keep their state.
  nn::LSTM packed_lstm(3, 4, 2, true, false, 0.0, true, /*proj_size=*/2);
  load_case(packed_lstm, "packed_lstm_proj");
  Tensor px = fixture_leaf("packed_lstm_proj_x"), ph0 = fixture_leaf("packed_lstm_proj_h0"),
         pc0 = fixture_leaf("packed_lstm_proj_c0");
  auto [packed_out, packed_state] = packed_lstm.forward(
      nn::pack_padded_sequence(px, std::vector<int64_t>{2, 4, 3}, false, false), {ph0, pc0});
  Tensor padded = nn::pad_packed_sequence(packed_out).first;
  check_case(packed_lstm, "packed_lstm_proj", padded, packed_state.first, packed_state.second, px,
             {{"h0", ph0}, {"c0", pc0}});
}

TEST_CASE("LSTM with proj_size: parameters, repr, gradcheck, errors", "[rnn]") {
  manual_seed(8);
  nn::LSTM lstm(5, 4, 1, true, false, 0.0, true, 3);
  std::vector<std::string> names;
  for (const auto& [name, p] : lstm.named_parameters()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"weight_ih_l0", "weight_hh_l0", "bias_ih_l0",
                                          "bias_hh_l0", "weight_hr_l0", "weight_ih_l0_reverse",
                                          "weight_hh_l0_reverse", "bias_ih_l0_reverse",
                                          "bias_hh_l0_reverse", "weight_hr_l0_reverse"});
  CHECK(lstm.named_parameters()[1].second.shape() == Shape{16, 3});  // weight_hh [4H, P]
  CHECK(lstm.named_parameters()[4].second.shape() == Shape{3, 4});   // weight_hr [P, H]
  CHECK(lstm.extra_repr() == "5, 4, bidirectional=True, proj_size=3");
  CHECK(lstm.options.proj_size() == 3);

  // gradcheck through the composed recurrence, in the input (a non-contiguous view) and every
  // parameter (gradcheck perturbs them in place, so the module sees it): padded, then packed.
  nn::LSTM small(2, 3, 1, true, false, 0.0, false, 2);
  small.to(kFloat64);
  std::vector<Tensor> padded = {transposed_leaf({2, 3, 2}).transpose(0, 1)};  // [3, 2, 2]
  std::vector<Tensor> packed = {leaf({3, 2, 2})};
  for (const Tensor& p : small.parameters()) {
    padded.push_back(p);
    packed.push_back(p);
  }
  check_gradients(
      [&](const std::vector<Tensor>& in) {
        auto [out, state] = small.forward(in[0]);
        return out.sum() + std::get<0>(state).pow(2.0).sum() + std::get<1>(state).sum();
      },
      padded);
  check_gradients(
      [&](const std::vector<Tensor>& in) {
        auto sequence = nn::pack_padded_sequence(in[0], std::vector<int64_t>{3, 1}, false, true);
        auto [out, state] = small.forward(sequence);
        return nn::pad_packed_sequence(out).first.pow(2.0).sum() + state.second.sum();
      },
      packed);

  using Catch::Contains;
  CHECK_THROWS_WITH(nn::LSTM(3, 4, 1, true, false, 0.0, false, 5),
                    Contains("proj_size") && Contains("[1, hidden_size = 4)") && Contains("5"));
  CHECK_THROWS_WITH(nn::LSTM(3, 4, 1, true, false, 0.0, false, -1), Contains("proj_size"));
  // h0 must be P wide, c0 H wide.
  Tensor x = randn({2, 1, 5});
  CHECK_THROWS_WITH(lstm.forward(x, std::make_tuple(zeros({2, 1, 4}), zeros({2, 1, 4}))),
                    Contains("h0") && Contains("[2, 1, 3]") && Contains("[2, 1, 4]"));
  CHECK_THROWS_WITH(lstm.forward(x, std::make_tuple(zeros({2, 1, 3}), zeros({2, 1, 3}))),
                    Contains("c0") && Contains("[2, 1, 4]") && Contains("[2, 1, 3]"));
  auto [out, state] = lstm.forward(x, std::make_tuple(zeros({2, 1, 3}), zeros({2, 1, 4})));
  CHECK(out.shape() == Shape{2, 1, 6});
}

TEST_CASE("GRU: 2 layers, bidirectional, batch_first, h0, matches PyTorch", "[rnn]") {
  nn::GRU gru(3, 3, 2, true, /*batch_first=*/true, 0.0, /*bidirectional=*/true);
  load_case(gru, "gru");
  Tensor x = fixture_leaf("gru_x"), h0 = fixture_leaf("gru_h0");
  auto [out, hn] = gru.forward(x, h0);
  check_case(gru, "gru", out, hn, Tensor(), x, {{"h0", h0}});
}

TEST_CASE("RNN: tanh (2 layers, h0) and relu (bidirectional, no bias) match PyTorch", "[rnn]") {
  {
    nn::RNN rnn(3, 3, 2);
    load_case(rnn, "rnn_tanh");
    Tensor x = fixture_leaf("rnn_tanh_x"), h0 = fixture_leaf("rnn_tanh_h0");
    auto [out, hn] = rnn.forward(x, h0);
    check_case(rnn, "rnn_tanh", out, hn, Tensor(), x, {{"h0", h0}});
  }
  {
    nn::RNN rnn(3, 3, 1, "relu", /*bias=*/false, false, 0.0, /*bidirectional=*/true);
    CHECK(rnn.named_parameters().size() == 4);  // weights only
    load_case(rnn, "rnn_relu");
    Tensor x = fixture_leaf("rnn_relu_x");
    auto [out, hn] = rnn.forward(x, Tensor());
    check_case(rnn, "rnn_relu", out, hn, Tensor(), x, {});
  }
}

TEST_CASE("LSTMCell, GRUCell, RNNCell (tanh, relu) match PyTorch", "[rnn]") {
  {
    nn::LSTMCell cell(3, 3);
    load_case(cell, "lstm_cell");
    Tensor x = fixture_leaf("lstm_cell_x"), h = fixture_leaf("lstm_cell_h0"),
           c = fixture_leaf("lstm_cell_c0");
    auto [h1, c1] = cell.forward(x, std::make_tuple(h, c));
    check_case(cell, "lstm_cell", Tensor(), h1, c1, x, {{"h0", h}, {"c0", c}});
  }
  {
    nn::GRUCell cell(3, 3);
    load_case(cell, "gru_cell");
    Tensor x = fixture_leaf("gru_cell_x"), h = fixture_leaf("gru_cell_h0");
    check_case(cell, "gru_cell", Tensor(), cell.forward(x, h), Tensor(), x, {{"h0", h}});
  }
  for (std::string nonlinearity : {"tanh", "relu"}) {
    std::string name = nonlinearity == "tanh" ? "rnn_cell" : "rnn_cell_relu";
    nn::RNNCell cell(3, 3, true, nonlinearity);
    load_case(cell, name);
    Tensor x = fixture_leaf(name + "_x"), h = fixture_leaf(name + "_h0");
    check_case(cell, name, Tensor(), cell.forward(x, h), Tensor(), x, {{"h0", h}});
  }
}

TEST_CASE("packed LSTM / GRU / RNN match PyTorch's packed results", "[rnn]") {
  {
    nn::LSTM lstm(3, 3, 2, true, false, 0.0, true);
    load_case(lstm, "packed_lstm");
    Tensor x = fixture_leaf("packed_lstm_x"), h0 = fixture_leaf("packed_lstm_h0"),
           c0 = fixture_leaf("packed_lstm_c0");
    auto packed = nn::pack_padded_sequence(x, std::vector<int64_t>{4, 3, 1});
    auto [out, state] = lstm.forward(packed, {h0, c0});
    Tensor padded = nn::pad_packed_sequence(out).first;
    check_case(lstm, "packed_lstm", padded, state.first, state.second, x, {{"h0", h0}, {"c0", c0}});
  }
  {
    nn::GRU gru(3, 3, 1, true, false, 0.0, true);
    load_case(gru, "packed_gru");
    Tensor x = fixture_leaf("packed_gru_x"), h0 = fixture_leaf("packed_gru_h0");
    auto packed = nn::pack_padded_sequence(x, tensor({2, 4, 3}), false, /*enforce_sorted=*/false);
    auto [out, hn] = gru.forward(packed, h0);
    check_case(gru, "packed_gru", nn::pad_packed_sequence(out).first, hn, Tensor(), x,
               {{"h0", h0}});
  }
  {
    nn::RNN rnn(3, 3);
    load_case(rnn, "packed_rnn");
    Tensor x = fixture_leaf("packed_rnn_x");
    auto packed = nn::pack_padded_sequence(x, std::vector<int64_t>{3, 1, 3}, false, false);
    auto [out, hn] = rnn.forward(packed);
    check_case(rnn, "packed_rnn", nn::pad_packed_sequence(out).first, hn, Tensor(), x, {});
  }
}

// ---------------------------------------------------------------- packed semantics

TEST_CASE("packed and unpacked LSTM agree on every valid step and on h_n, c_n", "[rnn]") {
  manual_seed(3);
  nn::LSTM lstm(2, 3, 2, true, /*batch_first=*/true, 0.0, /*bidirectional=*/true);
  lstm.to(kFloat64);
  const std::vector<int64_t> lengths = {2, 5, 3};
  Tensor x = randn({3, 5, 2}, kFloat64);
  auto packed = nn::pack_padded_sequence(x, lengths, /*batch_first=*/true, false);
  auto [packed_out, packed_state] = lstm.forward(packed, {});
  auto [padded, out_lengths] = nn::pad_packed_sequence(packed_out, true, -7.0, 6);
  CHECK(padded.shape() == Shape{3, 6, 6});
  CHECK(out_lengths.to_vector<int64_t>() == lengths);
  for (int64_t b = 0; b < 3; ++b) {
    INFO("sequence " << b);
    const int64_t len = lengths[b];
    // The sequence alone, unpadded: what the packed run must reproduce.
    auto [alone, state] = lstm.forward(x.narrow(0, b, 1).narrow(1, 0, len), {});
    CHECK(allclose(padded.narrow(0, b, 1).narrow(1, 0, len), alone, 1e-12, 1e-12));
    CHECK(allclose(padded.narrow(0, b, 1).narrow(1, len, 6 - len),
                   full({1, 6 - len, 6}, -7.0, kFloat64), 0, 0));
    CHECK(allclose(packed_state.first.narrow(1, b, 1), std::get<0>(state), 1e-12, 1e-12));
    CHECK(allclose(packed_state.second.narrow(1, b, 1), std::get<1>(state), 1e-12, 1e-12));
  }
}

TEST_CASE("padded steps never influence the outputs of a packed GRU", "[rnn]") {
  manual_seed(4);
  nn::GRU gru(2, 3, 1, true, false, 0.0, true);
  Tensor x = randn({4, 2, 2});
  Tensor garbage = x.clone();
  garbage.narrow(0, 2, 2).narrow(1, 1, 1).fill_(1e3);  // beyond sequence 1's length 2
  auto run = [&](const Tensor& input) {
    return gru.forward(nn::pack_padded_sequence(input, std::vector<int64_t>{4, 2}), Tensor());
  };
  auto [a, ha] = run(x);
  auto [b, hb] = run(garbage);
  CHECK(allclose(a.data, b.data, 0, 0));
  CHECK(allclose(ha, hb, 0, 0));
}

TEST_CASE("pack_padded_sequence / pad_packed_sequence round trip and gradients", "[rnn]") {
  Tensor x = arange(24.0, kFloat64).reshape({4, 3, 2}).requires_grad_();
  auto packed = nn::pack_padded_sequence(x, std::vector<int64_t>{4, 2, 1});
  CHECK(packed.batch_sizes.to_vector<int64_t>() == std::vector<int64_t>{3, 2, 1, 1});
  CHECK(packed.data.shape() == Shape{7, 2});
  CHECK(!packed.sorted_indices.defined());
  auto [padded, lengths] = nn::pad_packed_sequence(packed);
  Tensor mask = zeros({4, 3, 1}, kFloat64);
  for (int64_t b = 0; b < 3; ++b)
    mask.narrow(1, b, 1).narrow(0, 0, std::vector<int64_t>{4, 2, 1}[b]).fill_(1);
  CHECK(allclose(padded, x.detach() * mask, 0, 0));
  padded.sum().backward();
  CHECK(allclose(x.grad(), mask.expand({4, 3, 2}), 0, 0));

  auto unsorted = nn::pack_padded_sequence(x.detach(), std::vector<int64_t>{1, 4, 2}, false, false);
  CHECK(unsorted.sorted_indices.to_vector<int64_t>() == std::vector<int64_t>{1, 2, 0});
  CHECK(unsorted.unsorted_indices.to_vector<int64_t>() == std::vector<int64_t>{2, 0, 1});
  auto [back, back_lengths] = nn::pad_packed_sequence(unsorted, /*batch_first=*/true);
  CHECK(back_lengths.to_vector<int64_t>() == std::vector<int64_t>{1, 4, 2});
  CHECK(back.shape() == Shape{3, 4, 2});
  CHECK(allclose(back.select(0, 1), x.detach().select(1, 1), 0, 0));
}

// ---------------------------------------------------------------- gradchecks (float64)

TEST_CASE("gradcheck: lstm_sequence, gru_sequence, rnn_sequence, non-contiguous, packed", "[rnn]") {
  manual_seed(5);
  const int64_t T = 3, B = 3, H = 2;
  for (bool reverse : {false, true}) {
    for (std::vector<int64_t> batch_sizes : {std::vector<int64_t>{}, {3, 2, 1}}) {
      INFO("reverse " << reverse << ", packed " << !batch_sizes.empty());
      Tensor xp4 = testing::transposed_leaf({T, B, 4 * H}, 0.5);
      Tensor h0 = testing::strided_leaf({B, H}), c0 = testing::leaf({B, H});
      Tensor w4 = testing::transposed_leaf({4 * H, H}, 0.5), b4 = testing::leaf({4 * H}, 0.5);
      check_gradients(
          [&](const std::vector<Tensor>& in) {
            RecurrentResult r =
                lstm_sequence(in[0], in[1], in[2], in[3], in[4], batch_sizes, reverse);
            return cat({r.output.flatten(), r.h_n.flatten() * 2.0, r.c_n.flatten() * 3.0});
          },
          {xp4, h0, c0, w4, b4});
      Tensor xp3 = testing::strided_leaf({T, B, 3 * H}, 0.5);
      Tensor w3 = testing::leaf({3 * H, H}, 0.5), b3 = testing::leaf({3 * H}, 0.5);
      check_gradients(
          [&](const std::vector<Tensor>& in) {
            RecurrentResult r = gru_sequence(in[0], in[1], in[2], in[3], batch_sizes, reverse);
            return cat({r.output.flatten(), r.h_n.flatten() * 2.0});
          },
          {xp3, h0, w3, b3});
      for (std::string act : {"tanh", "relu"}) {
        Tensor xp1 = testing::leaf({T, B, H}), w1 = testing::transposed_leaf({H, H}, 0.5),
               b1 = testing::leaf({H}, 0.5);
        check_gradients(
            [&](const std::vector<Tensor>& in) {
              RecurrentResult r =
                  rnn_sequence(in[0], in[1], in[2], in[3], act, batch_sizes, reverse);
              return cat({r.output.flatten(), r.h_n.flatten() * 2.0});
            },
            {xp1, h0, w1, b1});
      }
    }
  }
}

TEST_CASE("gradcheck: cells and a packed bidirectional LSTM module", "[rnn]") {
  manual_seed(6);
  Tensor h = testing::leaf({2, 3}), c = testing::transposed_leaf({2, 3});
  check_gradients(
      [](const std::vector<Tensor>& in) {
        auto [h1, c1] = lstm_cell(in[0], in[1], in[2], in[3], in[4]);
        return h1 * 2.0 + c1;
      },
      {testing::leaf({2, 12}), h, c, testing::leaf({12, 3}, 0.5), testing::leaf({12}, 0.5)});
  check_gradients(
      [](const std::vector<Tensor>& in) { return gru_cell(in[0], in[1], in[2], in[3]); },
      {testing::leaf({2, 9}), h, testing::leaf({9, 3}, 0.5), testing::leaf({9}, 0.5)});
  check_gradients(
      [](const std::vector<Tensor>& in) { return rnn_cell(in[0], in[1], in[2], Tensor()); },
      {testing::leaf({2, 3}), h, testing::leaf({3, 3}, 0.5)});

  nn::LSTM lstm(2, 2, 2, true, true, 0.0, true);
  lstm.to(kFloat64);
  std::vector<Tensor> inputs = {testing::leaf({3, 3, 2})};
  for (const Tensor& p : lstm.parameters()) inputs.push_back(p);
  check_gradients(
      [&](const std::vector<Tensor>& in) {
        auto packed = nn::pack_padded_sequence(in[0], std::vector<int64_t>{2, 3, 1}, true, false);
        auto [out, state] = lstm.forward(packed, {});
        return cat({out.data.flatten(), state.first.flatten(), state.second.flatten()});
      },
      inputs);
}

// ---------------------------------------------------------------- module behaviour

TEST_CASE("RNN modules: PyTorch parameter names, shapes, init range, repr", "[rnn]") {
  manual_seed(7);
  nn::LSTM lstm(5, 4, 2, true, false, 0.0, true);
  std::vector<std::string> names;
  for (const auto& [name, p] : lstm.named_parameters()) names.push_back(name);
  CHECK(names == std::vector<std::string>{
                     "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                     "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse",
                     "bias_hh_l0_reverse", "weight_ih_l1", "weight_hh_l1", "bias_ih_l1",
                     "bias_hh_l1", "weight_ih_l1_reverse", "weight_hh_l1_reverse",
                     "bias_ih_l1_reverse", "bias_hh_l1_reverse"});
  CHECK(lstm.named_parameters()[0].second.shape() == Shape{16, 5});
  CHECK(lstm.named_parameters()[8].second.shape() == Shape{16, 8});
  for (const Tensor& p : lstm.parameters()) {
    CHECK(p.abs().max().item() <= 0.5);  // U(-1/sqrt(4), 1/sqrt(4))
    CHECK(p.abs().max().item() > 0.3);
  }
  CHECK(lstm.extra_repr() == "5, 4, num_layers=2, bidirectional=True");
  CHECK(nn::GRU(3, 2, 1, false, true, 0.5).extra_repr() ==
        "3, 2, bias=False, batch_first=True, dropout=0.5");
  CHECK(nn::RNNCell(3, 2, true, "relu").extra_repr() == "3, 2, nonlinearity=relu");
  CHECK(nn::GRUCell(3, 2).named_parameters()[1].second.shape() == Shape{6, 2});
  CHECK(nn::LSTMCell(3, 2, false).named_parameters().size() == 2);
}

TEST_CASE("RNN modules: unbatched input, inter-layer dropout only in training", "[rnn]") {
  manual_seed(8);
  nn::GRU gru(2, 3, 2, true, false, /*dropout=*/0.5);
  Tensor x = randn({4, 2});
  auto [out, hn] = gru.forward(x, Tensor());
  CHECK(out.shape() == Shape{4, 3});
  CHECK(hn.shape() == Shape{2, 3});
  gru.eval();
  auto [e1, h1] = gru.forward(x.unsqueeze(1), Tensor());
  auto [e2, h2] = gru.forward(x.unsqueeze(1), Tensor());
  CHECK(allclose(e1, e2, 0, 0));
  gru.train();
  auto [t1, g1] = gru.forward(x.unsqueeze(1), Tensor());
  CHECK_FALSE(allclose(t1, e1));
  nn::LSTMCell cell(2, 3);
  CHECK(std::get<0>(cell.forward(randn({2}))).shape() == Shape{3});
}

TEST_CASE("RNN errors name the module or op and the shapes", "[rnn]") {
  nn::LSTM lstm(3, 4, 2);
  CHECK_THROWS_WITH(lstm.forward(randn({5, 2, 6}), {}), Catch::Contains("LSTM") &&
                                                            Catch::Contains("input_size") &&
                                                            Catch::Contains("[5, 2, 6]"));
  CHECK_THROWS_WITH(
      lstm.forward(randn({5, 2, 3}), std::make_tuple(randn({1, 2, 4}), randn({2, 2, 4}))),
      Catch::Contains("LSTM") && Catch::Contains("[2, 2, 4]") && Catch::Contains("[1, 2, 4]"));
  CHECK_THROWS_WITH(lstm.forward(randn({5, 2, 3}), std::make_tuple(randn({2, 2, 4}), Tensor())),
                    Catch::Contains("LSTM"));
  CHECK_THROWS_WITH(lstm.forward(randn({5, 2, 3}, kFloat64), {}),
                    Catch::Contains("LSTM") && Catch::Contains("float64"));
  nn::GRU gru(3, 4);
  CHECK_THROWS_WITH(gru.forward(randn({5, 2, 3}), randn({1, 3, 4})),
                    Catch::Contains("GRU") && Catch::Contains("[1, 3, 4]"));
  CHECK_THROWS_WITH(nn::RNN(3, 4, 1, "sigmoid"),
                    Catch::Contains("RNN") && Catch::Contains("sigmoid"));
  CHECK_THROWS_WITH(nn::LSTM(3, 4, 1, true, false, 1.5), Catch::Contains("dropout"));
  CHECK_THROWS_WITH(nn::GRUCell(3, 4).forward(randn({2, 5})),
                    Catch::Contains("GRUCell") && Catch::Contains("[2, 5]"));
  CHECK_THROWS_WITH(nn::RNNCell(3, 4).forward(randn({2, 3}), randn({3, 4})),
                    Catch::Contains("RNNCell") && Catch::Contains("[3, 4]"));

  Tensor x = randn({4, 3, 2});
  CHECK_THROWS_WITH(nn::pack_padded_sequence(x, std::vector<int64_t>{2, 4, 1}),
                    Catch::Contains("pack_padded_sequence") && Catch::Contains("decreasing"));
  CHECK_THROWS_WITH(nn::pack_padded_sequence(x, std::vector<int64_t>{4, 2, 0}),
                    Catch::Contains("pack_padded_sequence") && Catch::Contains("[4, 3, 2]") &&
                        Catch::Contains("0"));
  CHECK_THROWS_WITH(nn::pack_padded_sequence(x, std::vector<int64_t>{5, 2, 1}),
                    Catch::Contains("pack_padded_sequence") && Catch::Contains("5"));
  CHECK_THROWS_WITH(nn::pack_padded_sequence(x, std::vector<int64_t>{4, 2}),
                    Catch::Contains("pack_padded_sequence") && Catch::Contains("[4, 3, 2]"));
  CHECK_THROWS_WITH(nn::pack_padded_sequence(x, tensor({4.0, 2.0, 1.0})),
                    Catch::Contains("pack_padded_sequence") && Catch::Contains("int64"));
  auto packed = nn::pack_padded_sequence(x, std::vector<int64_t>{4, 2, 1});
  CHECK_THROWS_WITH(nn::pad_packed_sequence(packed, false, 0.0, 3),
                    Catch::Contains("pad_packed_sequence") && Catch::Contains("total_length"));
  CHECK_THROWS_WITH(nn::GRU(3, 4).forward(packed),
                    Catch::Contains("GRU") && Catch::Contains("[7, 2]"));

  Tensor h = randn({2, 3});
  CHECK_THROWS_WITH(lstm_sequence(randn({4, 2, 12}), h, randn({3, 3}), randn({12, 3}), Tensor()),
                    Catch::Contains("lstm_sequence") && Catch::Contains("[3, 3]"));
  CHECK_THROWS_WITH(gru_sequence(randn({4, 2, 8}), h, randn({9, 3}), Tensor()),
                    Catch::Contains("gru_sequence") && Catch::Contains("[4, 2, 8]"));
  CHECK_THROWS_WITH(rnn_sequence(randn({4, 2, 3}), h, randn({3, 3}), randn({4})),
                    Catch::Contains("rnn_sequence") && Catch::Contains("[4]"));
  CHECK_THROWS_WITH(rnn_sequence(randn({2, 2, 3}), h, randn({3, 3}), Tensor(), "tanh", {1, 2}),
                    Catch::Contains("rnn_sequence") && Catch::Contains("non-increasing"));
  CHECK_THROWS_WITH(rnn_cell(randn({2, 3}, kFloat64), h, randn({3, 3}), Tensor()),
                    Catch::Contains("rnn_cell") && Catch::Contains("float64"));
  CHECK_THROWS_WITH(lstm_cell(randn({4, 2, 12}), h, h, randn({12, 3}), Tensor()),
                    Catch::Contains("lstm_cell") && Catch::Contains("[4, 2, 12]"));
}

TEST_CASE("float32 recurrences (vectorized exp) agree with float64 to ~1e-6", "[rnn]") {
  auto compare = [](auto make) {
    manual_seed(9);
    auto m32 = make();
    manual_seed(9);
    auto m64 = make();
    m64->to(kFloat64);
    Tensor x = (randn({6, 4, 5}) * 3.0).requires_grad_();  // large inputs: saturating gates
    Tensor x64 = x.detach().to(kFloat64).requires_grad_();
    Tensor y32 = std::get<0>(m32->forward(x)), y64 = std::get<0>(m64->forward(x64));
    CHECK(allclose(y32, y64.to(kFloat32), 1e-5, 2e-6));
    y32.sum().backward();
    y64.sum().backward();
    CHECK(allclose(x.grad(), x64.grad().to(kFloat32), 1e-4, 1e-5));
  };
  compare([] { return std::make_shared<nn::LSTM>(5, 8, 1, true, false, 0.0, true); });
  compare([] { return std::make_shared<nn::GRU>(5, 8); });
  compare([] { return std::make_shared<nn::RNN>(5, 8); });
}

TEST_CASE("multi-threaded recurrences (batch rows split per chunk) match one thread", "[rnn]") {
  // 24 rows of a packed batch: three chunks of 8 rows with 2 or 3 threads, the chunks' rows
  // ending at different steps.
  const int saved_threads = get_num_threads();
  const std::vector<int64_t> lengths = {6, 6, 6, 5, 5, 5, 5, 5, 4, 4, 4, 4,
                                        3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1};
  auto run = [&](nn::RNNBase& module, int threads, const Tensor& x) {
    set_num_threads(threads);
    module.zero_grad();
    Tensor input = x.detach().requires_grad_();
    auto packed = nn::pack_padded_sequence(input, lengths, false, true);
    Tensor out;
    if (auto* lstm = dynamic_cast<nn::LSTM*>(&module)) {
      auto [o, state] = lstm->forward(packed, {});
      out = cat({o.data.flatten(), state.first.flatten(), state.second.flatten()});
    } else if (auto* gru = dynamic_cast<nn::GRU*>(&module)) {
      auto [o, hn] = gru->forward(packed);
      out = cat({o.data.flatten(), hn.flatten()});
    } else {
      auto [o, hn] = dynamic_cast<nn::RNN&>(module).forward(packed);
      out = cat({o.data.flatten(), hn.flatten()});
    }
    (out * out).sum().backward();
    std::vector<Tensor> results = {out.detach(), input.grad()};
    for (const Tensor& p : module.parameters()) results.push_back(p.grad());
    return results;
  };
  manual_seed(10);
  nn::LSTM lstm(3, 128, 1, true, false, 0.0, true);
  nn::GRU gru(3, 192, 1, true, false, 0.0, true);
  nn::RNN rnn(3, 512, 1, "relu", true, false, 0.0, true);
  for (nn::RNNBase* module : std::vector<nn::RNNBase*>{&lstm, &gru, &rnn}) {
    INFO(module->type_name());
    module->to(kFloat64);
    Tensor x = randn({6, 24, 3}, kFloat64);
    std::vector<Tensor> one = run(*module, 1, x), three = run(*module, 3, x), nested;
    // Inside a chunk of an enclosing region the recurrence runs on that thread alone.
    parallel_chunks(1, [&](int64_t, int) { nested = run(*module, 3, x); });
    for (size_t i = 0; i < one.size(); ++i) {
      CHECK(allclose(three[i], one[i], 1e-12, 1e-12));
      CHECK(allclose(nested[i], one[i], 1e-12, 1e-12));
    }
  }
  set_num_threads(saved_threads);
}
