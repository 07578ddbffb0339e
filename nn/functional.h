// torch::nn::functional in minidl's native API: every function takes libtorch's XxxFuncOptions
// (with libtorch's defaults) and forwards to one op of ops/ -- no second implementation.
//
//   namespace F = minidl::nn::functional;
//   auto h = F::relu(F::conv2d(x, w, F::Conv2dFuncOptions().padding(1)));
//   h = F::dropout(h, F::DropoutFuncOptions().p(0.5).training(is_training()));
//   auto loss = F::cross_entropy(F::linear(h.flatten(1), fc_w, fc_b), labels);
#pragma once

#include "nn/functional/activation.h"
#include "nn/functional/conv.h"
#include "nn/functional/distance.h"
#include "nn/functional/dropout.h"
#include "nn/functional/embedding.h"
#include "nn/functional/linear.h"
#include "nn/functional/loss.h"
#include "nn/functional/modes.h"
#include "nn/functional/normalization.h"
#include "nn/functional/padding.h"
#include "nn/functional/pooling.h"
#include "nn/functional/upsampling.h"
