// minidl: include this one header to get everything.
//
//   #include <minidl/minidl.h>      // installed; or "minidl.h" inside the source tree
//   using namespace minidl;
#pragma once

#include "core/autograd.h"
#include "core/dtype.h"
#include "core/error.h"
#include "core/factories.h"
#include "core/generator.h"
#include "core/gradcheck.h"
#include "core/shape.h"
#include "core/tensor.h"
#include "ops/compare.h"
#include "ops/dropout.h"
#include "ops/elementwise.h"
#include "ops/index_ops.h"
#include "ops/linalg.h"
#include "ops/loss.h"
#include "ops/reduction.h"
#include "ops/shape_ops.h"
#include "ops/softmax.h"
#include "nn/module.h"
