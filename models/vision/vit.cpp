#include "models/vision/vit.h"

#include "core/error.h"
#include "core/factories.h"
#include "ops/elementwise.h"
#include "ops/shape_ops.h"

namespace minidl::models {

VisionTransformer::VisionTransformer(const ViTOptions& options)
    : Module("VisionTransformer"), options_(options) {
  MINIDL_CHECK(options.patch_size > 0 && options.image_size % options.patch_size == 0,
               "VisionTransformer",
               "the image size " << options.image_size << " must be a multiple of the patch size "
                                 << options.patch_size);
  const int64_t side = options.image_size / options.patch_size, D = options.d_model;
  patch_embedding = register_module(
      "patch_embedding",
      std::make_shared<nn::Conv2d>(options.channels, D, options.patch_size, options.patch_size));
  class_token = register_parameter("class_token", zeros({1, 1, D}));
  positions = register_parameter("positions", randn({1, side * side + 1, D}) * 0.02);
  nn::TransformerEncoderLayerOptions layer(D, options.heads);
  layer.dim_feedforward(options.dim_feedforward);
  layer.dropout(options.dropout);
  layer.activation("gelu");
  layer.batch_first(true);
  layer.norm_first(true);
  encoder =
      register_module("encoder", std::make_shared<nn::TransformerEncoder>(layer, options.layers));
  norm = register_module("norm", std::make_shared<nn::LayerNorm>(D));
  head = register_module("head", std::make_shared<nn::Linear>(D, options.classes));
}

Tensor VisionTransformer::forward(const Tensor& images) {
  MINIDL_CHECK(images.dim() == 4 && images.size(1) == options_.channels &&
                   images.size(2) == options_.image_size && images.size(3) == options_.image_size,
               "VisionTransformer",
               "expected images [B, " << options_.channels << ", " << options_.image_size << ", "
                                      << options_.image_size << "], got "
                                      << shape_str(images.shape()));
  Tensor patches = (*patch_embedding)(images).flatten(2).transpose(1, 2);  // [B, P, D]
  Tensor tokens = cat({class_token.expand({images.size(0), -1, -1}), patches}, 1) + positions;
  return (*head)((*norm)(encoder->forward(tokens)).select(1, 0));  // [B, classes]
}

}  // namespace minidl::models
