// StateDict: a vector of (name, tensor) pairs that answers libtorch's OrderedDict calls.
#include "nn/state_dict.h"

#include "tests/test_util.h"

using namespace minidl;

TEST_CASE("StateDict: pairs, structured bindings and OrderedDict lookups", "[state_dict]") {
  nn::Linear fc(3, 2);
  nn::StateDict params = fc.named_parameters();
  REQUIRE(params.size() == 2);
  CHECK(params[0].first == "weight");
  CHECK(params[0].key() == "weight");
  CHECK(params[1].value().is_same(fc.bias));
  CHECK(params["weight"].is_same(fc.weight));
  CHECK(params.at("bias").is_same(fc.bias));
  CHECK(params.contains("bias"));
  CHECK_FALSE(params.contains("running_mean"));
  CHECK(params.find("running_mean") == nullptr);
  CHECK(params.find("weight")->is_same(fc.weight));
  CHECK(params.keys() == std::vector<std::string>{"weight", "bias"});
  CHECK(params.values()[1].is_same(fc.bias));
  int seen = 0;
  for (const auto& [name, tensor] : params.items()) seen += (name == "weight") + tensor.dim();
  CHECK(seen == 4);  // "weight" + dims 2 and 1

  // Writes through the returned handle reach the module's tensor.
  params["bias"].detach().fill_(7.0);
  CHECK(fc.bias.to_vector<float>() == std::vector<float>{7.0f, 7.0f});

  // Built from plain pairs, as other code hands them over.
  std::vector<std::pair<std::string, Tensor>> plain{{"a", ones({1})}};
  nn::StateDict from_plain(plain.begin(), plain.end());
  CHECK(from_plain["a"].item<float>() == 1.0f);

  CHECK_THROWS_WITH(params["wieght"], Catch::Contains("StateDict") &&
                                          Catch::Contains("no entry named \"wieght\"") &&
                                          Catch::Contains("weight, bias"));
  const nn::StateDict empty;
  CHECK_THROWS_WITH(empty["x"], Catch::Contains("(none)"));
}
