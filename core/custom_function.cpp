#include "core/custom_function.h"

#include <cxxabi.h>

#include <cstdlib>

#include "core/factories.h"

namespace minidl {

// ---------------------------------------------------------------- IValue

std::string IValue::tagKind() const {
  static const char* const kinds[] = {"None", "Double", "Int", "Bool", "String", "Tensor"};
  return kinds[value_.index()];
}

namespace {
template <typename V>
const V& ivalue_as(
    const std::variant<std::monostate, double, int64_t, bool, std::string, Tensor>& v,
    const char* wanted, const IValue& self) {
  MINIDL_CHECK(std::holds_alternative<V>(v), "IValue",
               "expected " << wanted << " but the value holds " << self.tagKind());
  return std::get<V>(v);
}
}  // namespace

double IValue::toDouble() const {
  return ivalue_as<double>(value_, "Double", *this);
}
int64_t IValue::toInt() const {
  return ivalue_as<int64_t>(value_, "Int", *this);
}
bool IValue::toBool() const {
  return ivalue_as<bool>(value_, "Bool", *this);
}
const std::string& IValue::toStringRef() const {
  return ivalue_as<std::string>(value_, "String", *this);
}
Tensor IValue::toTensor() const {
  return ivalue_as<Tensor>(value_, "Tensor", *this);
}

namespace autograd {

// ---------------------------------------------------------------- AutogradContext

void AutogradContext::save_for_backward(const tensor_list& tensors) {
  saved_.clear();
  for (const Tensor& t : tensors) saved_.emplace_back(t);
}

tensor_list AutogradContext::get_saved_variables() const {
  tensor_list out;
  for (const SavedTensor& s : saved_) out.push_back(s.get());
  return out;
}

void AutogradContext::mark_non_differentiable(const tensor_list& outputs) {
  non_differentiable_.insert(non_differentiable_.end(), outputs.begin(), outputs.end());
}

void AutogradContext::mark_dirty(const tensor_list& inputs) {
  dirty_.insert(dirty_.end(), inputs.begin(), inputs.end());
}

bool AutogradContext::needs_input_grad(size_t index) const {
  MINIDL_CHECK(index < needs_input_grad_.size(), "needs_input_grad",
               "index " << index << " is out of range: forward has " << needs_input_grad_.size()
                        << " tensor arguments");
  return needs_input_grad_[index];
}

namespace detail {

std::string demangle(const char* mangled) {
  int status = 0;
  char* readable = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  std::string name = status == 0 && readable ? readable : mangled;
  std::free(readable);
  return name;
}

namespace {
bool contains(const tensor_list& list, const Tensor& t) {
  for (const Tensor& x : list)
    if (x.is_same(t)) return true;
  return false;
}
}  // namespace

void record_function(const char* name, const std::shared_ptr<AutogradContext>& ctx,
                     const tensor_list& inputs, const std::vector<bool>& arg_is_tensor,
                     tensor_list& outputs, UserBackward backward) {
  for (const Tensor& d : ctx->dirty_) {
    MINIDL_CHECK(contains(inputs, d), name, "mark_dirty was given a tensor that is not an input");
    MINIDL_CHECK(!(d.is_leaf() && d.requires_grad()), name,
                 "a leaf tensor that requires grad (shape " << shape_str(d.shape())
                                                            << ") was modified in place");
  }
  for (size_t k = 0; k < outputs.size(); ++k) {
    const Tensor& out = outputs[k];
    // An input returned as it is, and not modified in place, becomes a new handle to the same
    // data: recording onto the input's own handle would rewrite its history.
    if (out.defined() && contains(inputs, out) && !contains(ctx->dirty_, out))
      outputs[k] = out.detach();
  }
  if (!needs_grad(inputs)) return;
  const size_t n_outputs = outputs.size();
  std::vector<Shape> output_shapes(n_outputs);
  std::vector<DType> output_dtypes(n_outputs);
  for (size_t k = 0; k < n_outputs; ++k) {
    if (!outputs[k].defined()) continue;
    output_shapes[k] = outputs[k].shape();
    output_dtypes[k] = outputs[k].dtype();
  }
  std::vector<Shape> input_shapes;
  for (const Tensor& t : inputs) input_shapes.push_back(t.defined() ? t.shape() : Shape{});
  auto shared_backward = std::make_shared<UserBackward>(std::move(backward));
  for (size_t k = 0; k < n_outputs; ++k) {
    const Tensor& out = outputs[k];
    if (!out.defined() || !out.is_floating_point() || contains(ctx->non_differentiable_, out))
      continue;
    // dL/d(inputs) = backward(ctx, [0, .., dL/d(output k), .., 0])
    record(name, out, inputs, [=](const Tensor& g) {
      tensor_list grad_outputs(n_outputs);
      for (size_t j = 0; j < n_outputs; ++j)
        grad_outputs[j] = j == k ? g : zeros(output_shapes[j], output_dtypes[j]);
      tensor_list grads = (*shared_backward)(ctx.get(), grad_outputs);
      // Extra trailing gradients are fine when undefined (as libtorch): a forward with a
      // defaulted argument, called without it, may still return its (undefined) gradient.
      while (grads.size() > arg_is_tensor.size() && !grads.back().defined()) grads.pop_back();
      MINIDL_CHECK(grads.size() == arg_is_tensor.size(), name,
                   "backward returned " << grads.size() << " gradients, expected "
                                        << arg_is_tensor.size()
                                        << " (one per forward argument after ctx; undefined "
                                           "Tensors for the arguments without one)");
      GradList input_grads;
      for (size_t a = 0; a < grads.size(); ++a) {
        if (!arg_is_tensor[a]) {
          MINIDL_CHECK(
              !grads[a].defined(), name,
              "backward returned a gradient for argument " << a << ", which is not a tensor");
          continue;
        }
        const size_t i = input_grads.size();
        if (grads[a].defined())
          MINIDL_CHECK(grads[a].shape() == input_shapes[i], name,
                       "backward returned a gradient of shape "
                           << shape_str(grads[a].shape()) << " for argument " << a << " of shape "
                           << shape_str(input_shapes[i]));
        input_grads.push_back(grads[a]);
      }
      return input_grads;
    })->twice_differentiable = true;  // backward is written with recorded minidl ops
  }
}

}  // namespace detail
}  // namespace autograd
}  // namespace minidl
