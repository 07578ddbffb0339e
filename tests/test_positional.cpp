// Positional encodings: nn/attention/positional.h (sinusoidal, as the PyTorch Transformer
// tutorial's PositionalEncoding, and learned).
#include <cmath>

#include "nn/attention/positional.h"
#include "tests/fixture.h"
#include "tests/test_util.h"

using namespace minidl;
using minidl::testing::allclose;
using minidl::testing::check_gradients;
using minidl::testing::strided_leaf;
using minidl::testing::transposed_leaf;

namespace {
// pe[pos, 2i] = sin(pos / 10000^(2i/d)), pe[pos, 2i+1] = cos(pos / 10000^(2i/d)), plain loops.
Tensor naive_table(int64_t max_len, int64_t d) {
  std::vector<double> v(max_len * d);
  for (int64_t pos = 0; pos < max_len; ++pos)
    for (int64_t c = 0; c < d; ++c) {
      const int64_t two_i = c - c % 2;
      const double angle = pos / std::pow(10000.0, static_cast<double>(two_i) / d);
      v[pos * d + c] = c % 2 == 0 ? std::sin(angle) : std::cos(angle);
    }
  return from_vector(v, {max_len, d}, kFloat64);
}
}  // namespace

TEST_CASE("sinusoidal_position_encoding: the formula, even and odd d_model", "[relpos]") {
  for (int64_t d : {1, 2, 7, 16}) {
    INFO("d_model " << d);
    Tensor table = nn::sinusoidal_position_encoding(50, d, kFloat64);
    CHECK(table.shape() == Shape{50, d});
    CHECK(allclose(table, naive_table(50, d), 1e-12, 1e-12));
    Tensor f32 = nn::sinusoidal_position_encoding(50, d);
    CHECK(f32.dtype() == kFloat32);
    CHECK(allclose(f32.to(kFloat64), table, 0, 1e-7));
  }
  // Row 0 alternates sin 0 = 0 and cos 0 = 1; an odd d ends with a sine column.
  CHECK(nn::sinusoidal_position_encoding(1, 5).to_vector<double>() ==
        std::vector<double>{0, 1, 0, 1, 0});
}

TEST_CASE("sinusoidal table equals the PyTorch tutorial's PositionalEncoding", "[relpos]") {
  minidl::testing::Fixtures fx("relpos.txt");
  Tensor rows = fx["pe_rows"];
  Tensor table64 = index_select(nn::sinusoidal_position_encoding(5000, 16, kFloat64), 0, rows);
  CHECK(allclose(table64, fx["pe_f64"], 1e-10, 1e-10));
  // The tutorial computes in float32: its angles pos * div_term carry a rounding error of up to
  // ~pos * 2^-24, so entries agree to 1e-5 for small positions only (ours is the rounded float64
  // value).
  Tensor table32 = index_select(nn::sinusoidal_position_encoding(5000, 16), 0, rows);
  CHECK(allclose(table32.narrow(0, 0, 7), fx["pe_f32"].narrow(0, 0, 7), 1e-5, 1e-5));
  CHECK(allclose(table32, fx["pe_f32"], 0, 1e-3));

  // The tutorial's layout: [T, B, d] input, pe buffer [max_len, 1, d], eval mode.
  nn::SinusoidalPositionalEncoding pe(16, 64, 0.1, false);
  pe.eval();
  CHECK(pe.pe.shape() == Shape{64, 1, 16});
  CHECK(allclose(pe(fx["pe_x"]), fx["pe_out"], 1e-5, 1e-6));
}

TEST_CASE("SinusoidalPositionalEncoding: buffer, layouts, dropout", "[relpos]") {
  manual_seed(11);
  nn::SinusoidalPositionalEncoding pe(6, 20);
  auto buffers = pe.named_buffers();
  REQUIRE(buffers.size() == 1);
  CHECK(buffers[0].first == "pe");
  CHECK(pe.pe.shape() == Shape{1, 20, 6});
  CHECK(pe.state_dict().size() == 1);  // persistent, as in the tutorial
  CHECK(pe.parameters().empty());
  CHECK(pe.extra_repr() == "d_model=6, max_len=20, batch_first=True");
  CHECK(pe.dropout->p == 0.1);

  Tensor x = randn({3, 5, 6});
  pe.eval();
  Tensor expected = x + nn::sinusoidal_position_encoding(20, 6).narrow(0, 0, 5);
  CHECK(allclose(pe(x), expected, 1e-6, 1e-6));
  // Training: dropout(x + pe) zeroes some entries and scales the rest by 1 / 0.9.
  nn::SinusoidalPositionalEncoding heavy(6, 20, 0.5);
  Tensor y = heavy(x);
  auto yv = y.to_vector<double>(), ev = expected.to_vector<double>();
  int64_t zeroed = 0, scaled = 0;
  for (size_t i = 0; i < yv.size(); ++i) {
    if (yv[i] == 0.0) ++zeroed;
    if (std::fabs(yv[i] - 2 * ev[i]) < 1e-5) ++scaled;
  }
  CHECK(zeroed > 0);
  CHECK(zeroed + scaled == static_cast<int64_t>(yv.size()));

  // Float64 through to(); gradient is the identity.
  nn::SinusoidalPositionalEncoding pe64(4, 8, 0.0);
  pe64.to(kFloat64);
  CHECK(pe64.pe.dtype() == kFloat64);
  manual_seed(12);
  check_gradients([&](const std::vector<Tensor>& in) { return pe64(in[0]); },
                  {transposed_leaf({2, 3, 4})});
}

TEST_CASE("LearnedPositionalEmbedding: x + weight[0..T)", "[relpos]") {
  manual_seed(13);
  nn::LearnedPositionalEmbedding learned(10, 4);
  auto params = learned.named_parameters();
  REQUIRE(params.size() == 1);
  CHECK(params[0].first == "weight");
  CHECK(learned.weight.shape() == Shape{10, 4});
  CHECK(learned.weight.std().item() > 0.5);  // N(0, 1) like nn.Embedding
  CHECK(learned.extra_repr() == "max_len=10, d_model=4, batch_first=True");

  Tensor x = randn({2, 6, 4});
  CHECK(allclose(learned(x), x + learned.weight.narrow(0, 0, 6), 0, 0));
  nn::LearnedPositionalEmbedding seq(10, 4, false);
  Tensor xs = randn({6, 2, 4});
  CHECK(allclose(seq(xs), xs + seq.weight.narrow(0, 0, 6).unsqueeze(1), 0, 0));

  // Positions past T receive no gradient; the others receive the batch sum.
  learned(x).sum().backward();
  Tensor g = learned.weight.grad();
  CHECK(allclose(g.narrow(0, 0, 6), full({6, 4}, 2.0), 0, 0));
  CHECK(g.narrow(0, 6, 4).abs().max().item() == 0.0);

  learned.to(kFloat64);
  seq.to(kFloat64);
  check_gradients([&](const std::vector<Tensor>& in) { return learned(in[0]); },
                  {strided_leaf({2, 5, 4}), learned.weight});
  check_gradients([&](const std::vector<Tensor>& in) { return seq(in[0]); },
                  {transposed_leaf({7, 3, 4}), seq.weight});
}

TEST_CASE("positional encodings: errors name the module and the sizes", "[relpos]") {
  nn::SinusoidalPositionalEncoding pe(8, 16);
  CHECK_THROWS_WITH(pe(zeros({2, 17, 8})), Catch::Contains("SinusoidalPositionalEncoding") &&
                                               Catch::Contains("17") && Catch::Contains("16"));
  CHECK_THROWS_WITH(pe(zeros({2, 5, 6})), Catch::Contains("SinusoidalPositionalEncoding") &&
                                              Catch::Contains("[2, 5, 6]"));
  CHECK_THROWS_WITH(pe(zeros({5, 8})),
                    Catch::Contains("SinusoidalPositionalEncoding") && Catch::Contains("[5, 8]"));
  CHECK_THROWS_WITH(pe(zeros({2, 5, 8}, kInt64)),
                    Catch::Contains("SinusoidalPositionalEncoding") && Catch::Contains("int64"));
  CHECK_THROWS_WITH(pe(zeros({2, 5, 8}, kFloat64)),
                    Catch::Contains("SinusoidalPositionalEncoding") && Catch::Contains("float64"));
  CHECK_THROWS_WITH(
      nn::SinusoidalPositionalEncoding(0, 16),
      Catch::Contains("SinusoidalPositionalEncoding") && Catch::Contains("d_model=0"));
  CHECK_THROWS_WITH(nn::SinusoidalPositionalEncoding(8, 16, 2.0), Catch::Contains("Dropout"));
  CHECK_THROWS_WITH(nn::sinusoidal_position_encoding(-1, 4),
                    Catch::Contains("sinusoidal_position_encoding") && Catch::Contains("-1"));
  CHECK_THROWS_WITH(nn::sinusoidal_position_encoding(4, 4, kInt64),
                    Catch::Contains("sinusoidal_position_encoding") && Catch::Contains("int64"));

  nn::LearnedPositionalEmbedding learned(12, 4, false);
  CHECK_THROWS_WITH(learned(zeros({13, 2, 4})), Catch::Contains("LearnedPositionalEmbedding") &&
                                                    Catch::Contains("13") && Catch::Contains("12"));
  CHECK_THROWS_WITH(learned(zeros({3, 2, 5})),
                    Catch::Contains("LearnedPositionalEmbedding") && Catch::Contains("[3, 2, 5]"));
  CHECK_THROWS_WITH(learned(zeros({3, 2, 4}, kFloat64)),
                    Catch::Contains("LearnedPositionalEmbedding") && Catch::Contains("float64"));
  CHECK_THROWS_WITH(nn::LearnedPositionalEmbedding(0, 4),
                    Catch::Contains("LearnedPositionalEmbedding") && Catch::Contains("max_len=0"));
}
