// compat/torch/torch.h: libtorch's names are aliases of minidl's, none is missing, and a program
// that says `using namespace torch;` sees no ambiguity.
#include "compat/torch/torch.h"

#include <regex>
#include <set>
#include <type_traits>

#include "tests/test_util.h"

using minidl::testing::read_text;
using minidl::testing::source_root;

namespace {

// Helpers that are minidl's own machinery (kernel loops, stride arithmetic, the tape's recording
// API, UTF-8, threading internals), not functions a libtorch program calls on tensors.
const std::set<std::string> kInternal = {"binary_loop",
                                         "binary_map",
                                         "broadcast_strides",
                                         "cached_bytes",
                                         "checked_add",
                                         "checked_mul",
                                         "contiguous_strides",
                                         "convert_element",
                                         "copy_data",
                                         "erf_float",
                                         "erf_vec",
                                         "exp_float",
                                         "exp_vec",
                                         "fill_data",
                                         "for_each_row",
                                         "index_str",
                                         "make_view",
                                         "normalize_dims",
                                         "parallel_chunks",
                                         "parallel_for",
                                         "parallel_for_slots",
                                         "parallel_sum",
                                         "reduce_geometry",
                                         "reduction_dims",
                                         "row_geometry",
                                         "ternary_loop",
                                         "try_contiguous_strides",
                                         "tuple_str",
                                         "unary_loop",
                                         "is_valid_utf8",
                                         "tanh_float",
                                         "tanh_vec",
                                         "shape_numel",
                                         "needs_grad",
                                         "record",
                                         "gradient_edge",
                                         "in_parallel_region",
                                         "default_num_threads",
                                         "log_softmax_backward_data",
                                         "softmax_backward_data",
                                         "wrap_dim",
                                         "backward",
                                         "grad",
                                         "gradcheck",
                                         "gradgradcheck",
                                         "has_non_finite",
                                         "sum_to",
                                         "shape_str",
                                         "dtype_name",
                                         "element_size",
                                         "band_to_dense",
                                         "reduction_name"};
// minidl's own tools for looking at the tape (core/graph_dot.h, core/trace.h): libtorch has no
// counterpart, so torch.h does not alias them (a libtorch program never calls them).
const std::set<std::string> kMinidlOnly = {"clear_saved_tensor_records",
                                           "dot_quote",
                                           "recording_saved_tensors",
                                           "saved_tensors_of",
                                           "set_record_saved_tensors",
                                           "set_trace",
                                           "set_trace_output",
                                           "summarize_tape",
                                           "to_dot",
                                           "trace_enabled",
                                           "write_dot"};

// Free functions declared at minidl's namespace scope in core/ and ops/ headers (declarations
// start in column 0; nested namespaces such as detail or cuda are skipped: torch.h aliases those
// namespaces whole).
std::set<std::string> public_functions() {
  const std::regex declaration(
      R"(^(?:inline |constexpr |template <[^>]*> )*(?!return|using|typedef|namespace|class|struct|enum)[A-Za-z_][\w:<>, *&]*[ *&]([a-z_][a-z0-9_]*)\()");
  // Any namespace but minidl itself (detail, cuda, indexing, ...) is nested.
  const std::regex enter_nested(R"(^namespace (?!minidl \{)[\w:]+ \{)");
  const std::regex leave_nested(R"(^\}  // namespace (?!minidl$)[\w:]+$)");
  std::set<std::string> names;
  for (const char* folder : {"core", "ops"}) {
    for (const auto& entry : std::filesystem::directory_iterator(source_root() / folder)) {
      if (entry.path().extension() != ".h") continue;
      std::ifstream in(entry.path());
      std::string line;
      bool nested = false;
      while (std::getline(in, line)) {
        if (std::regex_search(line, enter_nested)) nested = true;
        if (std::regex_search(line, leave_nested)) nested = false;
        std::smatch match;
        if (nested || !std::regex_search(line, match, declaration)) continue;
        const std::string name = match[1];
        if (!kInternal.count(name) && !kMinidlOnly.count(name) && name.rfind("utf8_", 0) != 0)
          names.insert(name);
      }
    }
  }
  return names;
}

}  // namespace

TEST_CASE("torch.h: every public minidl function is a torch:: function", "[torch_header]") {
  const std::string header = read_text(source_root() / "compat/torch/torch.h");
  const std::set<std::string> names = public_functions();
  CHECK(names.size() > 100);  // the scan found the ops
  for (const std::string& name : names) {
    INFO("compat/torch/torch.h lacks `using ::minidl::" << name << ";`");
    CHECK(header.find("using ::minidl::" + name + ";") != std::string::npos);
  }
}

TEST_CASE("torch.h: every minidl layer has libtorch's X / XImpl pair", "[torch_header]") {
  const std::string header = read_text(source_root() / "compat/torch/torch.h");
  // A concrete layer: `class X : public Base` in nn/ whose base is a module base class.
  const std::regex layer(
      R"(^class (\w+) : public (Module|ConvNd|ConvTransposeNd|BatchNormBase|RNNBase|RNNCellBase|ModuleSequence)\b)");
  int found = 0;
  for (const char* folder : {"nn", "nn/attention"}) {
    for (const auto& entry : std::filesystem::directory_iterator(source_root() / folder)) {
      if (entry.path().extension() != ".h") continue;
      std::ifstream in(entry.path());
      std::string line;
      while (std::getline(in, line)) {
        std::smatch match;
        if (!std::regex_search(line, match, layer)) continue;
        const std::string name = match[1];
        if (name == "ConvNd" || name == "ConvTransposeNd" || name == "BatchNormBase" ||
            name == "RNNBase" || name == "RNNCellBase" || name == "ModuleSequence")
          continue;
        ++found;
        INFO(entry.path().string()
             << ": compat/torch/torch.h lacks MINIDL_TORCH_LAYER(" << name << ")");
        CHECK(header.find("MINIDL_TORCH_LAYER(" + name + ");") != std::string::npos);
      }
    }
  }
  CHECK(found > 30);
}

TEST_CASE("torch.h: every layer's Options builder is a torch::nn name", "[torch_header]") {
  const std::string header = read_text(source_root() / "compat/torch/torch.h");
  const std::regex options(R"(^(?:template <[^>]*>\s*)?(?:struct|using) (\w+Options)\b)");
  int found = 0;
  // The functional options (F::XxxFuncOptions) come with torch::nn::functional, aliased whole.
  const std::regex enter_namespace(R"(^namespace ([\w:]+) \{)");
  for (const char* folder : {"nn", "nn/attention", "nn/functional"}) {
    for (const auto& entry : std::filesystem::directory_iterator(source_root() / folder)) {
      const std::string file = entry.path().filename().string();
      // The optimizers' and schedulers' options come with torch::optim.
      if (entry.path().extension() != ".h" || file == "optim.h" || file == "scheduler.h") continue;
      std::ifstream in(entry.path());
      std::string line, current_namespace;
      while (std::getline(in, line)) {
        std::smatch match;
        // (A namespace opened inside a functional one, like its detail, stays functional.)
        if (std::regex_search(line, match, enter_namespace) &&
            current_namespace.find("functional") == std::string::npos)
          current_namespace = match[1];
        if (line.rfind("}  // namespace", 0) == 0 && line.find("functional") != std::string::npos)
          current_namespace.clear();
        if (current_namespace.find("functional") != std::string::npos) continue;
        if (!std::regex_search(line, match, options)) continue;
        ++found;
        INFO(file << ": compat/torch/torch.h lacks `using ::minidl::nn::" << match[1] << ";`");
        CHECK(header.find("using ::minidl::nn::" + std::string(match[1]) + ";") !=
              std::string::npos);
      }
    }
  }
  CHECK(found > 30);
}

TEST_CASE("torch.h: libtorch's names are minidl's types, handles included", "[torch_header]") {
  static_assert(std::is_same_v<torch::Tensor, minidl::Tensor>);
  static_assert(std::is_same_v<torch::nn::LinearImpl, minidl::nn::Linear>);
  static_assert(std::is_same_v<torch::nn::Linear, minidl::nn::ModuleHolder<minidl::nn::Linear>>);
  static_assert(std::is_same_v<torch::nn::Module, minidl::nn::Module>);
  static_assert(std::is_same_v<torch::optim::SGD, minidl::optim::SGD>);
  static_assert(std::is_same_v<torch::ScalarType, minidl::DType>);
  static_assert(std::is_same_v<torch::nn::FeatureDropout, torch::nn::Dropout2d>);  // deprecated
  CHECK_FALSE(torch::cuda::is_available());
  CHECK(torch::cuda::device_count() == 0);
  CHECK(torch::str("sample-", 3, ".pt") == "sample-3.pt");

  // `using namespace torch;` as many libtorch programs say: nn:: is torch::nn, unambiguously.
  using namespace torch;
  nn::Linear fc{nullptr};
  CHECK(fc.is_empty());
  fc = nn::Linear(3, 2);
  Tensor y = fc(randn({4, 3}));
  CHECK(y.sizes() == minidl::Shape{4, 2});
  CHECK(fc->weight.size(0) == 2);
  CHECK_THROWS_WITH([&] { TORCH_CHECK(y.dim() == 3, "expected 3 dims, got ", y.dim()); }(),
                    Catch::Contains("TORCH_CHECK") && Catch::Contains("y.dim() == 3") &&
                        Catch::Contains("expected 3 dims, got 2"));
  CHECK_THROWS_WITH([&] { AT_ASSERT(y.numel() == 0); }(),
                    Catch::Contains("AT_ASSERT") && Catch::Contains("y.numel() == 0"));
}

TEST_CASE("torch.h: mode tags work where layer options take a mode, and named Sequentials",
          "[torch_header]") {
  using namespace torch;
  CHECK(nn::Conv2dOptions(1, 2, 3).padding_mode(kZeros).padding_mode() == "zeros");
  CHECK(nn::UpsampleOptions().mode(kBilinear).mode() == "bilinear");
  CHECK(nn::RNNOptions(2, 3).nonlinearity(kReLU).nonlinearity() == "relu");
  CHECK(nn::TransformerEncoderLayerOptions(8, 2).activation(kGELU).activation() == "gelu");
  CHECK_THROWS_WITH(nn::Conv2d(nn::Conv2dOptions(1, 2, 3).padding_mode(kCircular)),
                    Catch::Contains("padding_mode"));

  nn::Linear fc(3, 4);
  nn::Sequential named({{"fc", fc}, {"act", nn::ReLU()}});
  CHECK(named->size() == 2);
  CHECK(named->named_children()[0].first == "fc");
  CHECK(named(randn({2, 3})).sizes() == std::vector<int64_t>{2, 4});
  CHECK(named->named_parameters().contains("fc.weight"));
}
