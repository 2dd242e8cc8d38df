#pragma once
// Builds the LibTorch module for an Architecture (see architecture.hpp for the layer order).
// Initialisation as in the seed: xavier normal for conv weights, xavier uniform for linear
// weights, both with the gain of the activation; zero biases.
#include <torch/torch.h>

#include "trainers/core/architecture.hpp"

namespace hpsearch::nn {

// `input_shape` is one sample's shape ({C, H, W} or {F}); the module maps a batch
// {N, input_shape...} to {N, output_features}.
torch::nn::Sequential build_model(const Architecture& architecture, const std::vector<int64_t>& input_shape, int64_t output_features);

}  // namespace hpsearch::nn
