// gradcheck: compares the tape's gradients with central finite differences, in float64.
//
// For a function f of some tensors, it draws a fixed random "upstream gradient" r of f's output
// shape and checks the vector-Jacobian product the tape computes, d<r, f(x)>/dx, against
//   ( <r, f(x + h e_i)> - <r, f(x - h e_i)> ) / 2h     for every element i of every input.
// One random r checks every column of the Jacobian against a random combination of its rows --
// a wrong entry anywhere shows up unless it is exactly orthogonal to r (probability 0).
// Inputs must be float64 tensors with requires_grad set (others are treated as constants).
// Inputs may be non-contiguous views; perturbations go through their strides.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace minidl {

// Step and tolerances of gradcheck / gradgradcheck.
struct GradcheckOptions {
  double eps = 1e-6;   // finite-difference step h
  double atol = 1e-5;  // |analytic - numeric| <= atol + rtol * |numeric|
  double rtol = 1e-3;
  uint64_t seed = 0;  // for the random upstream gradient
};

// ok, or the first mismatch described in message.
struct GradcheckResult {
  bool ok = true;
  std::string message;  // the first mismatch: input, element, analytic vs numeric
  double max_abs_error = 0.0;
};

// fn(inputs) -> a floating tensor of any shape; inputs float64 requiring grad. Compares the
// tape's vector-Jacobian product with central differences (see above). A mismatch is reported
// in the result; a non-float64 input, no input requiring grad or a non-floating output throws.
GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                          const std::vector<Tensor>& inputs, GradcheckOptions options = {});

// Second derivatives, like torch.autograd.gradgradcheck: with a random upstream gradient r and
// random directions v_k, the first-order gradients g_k(x) = d<r, f(x)>/dx_k (computed with
// create_graph) give the scalar h(x) = sum_k <v_k, g_k(x)>; gradcheck then compares the
// double backward, dh/dx, with finite differences of the first-order gradients. An op whose
// backward silently drops history shows up as an analytic 0 against a nonzero numeric value.
GradcheckResult gradgradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                              const std::vector<Tensor>& inputs, GradcheckOptions options = {});

}  // namespace minidl
