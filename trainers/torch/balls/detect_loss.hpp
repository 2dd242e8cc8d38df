#pragma once
// The detect trainer's per-batch computations, shared with bench/detect_throughput.cpp so that
// the benchmark measures exactly the training step a trial runs.
#include <torch/torch.h>

namespace hpsearch::detect {

inline constexpr int64_t kColours = 9;
inline constexpr int64_t kOutputs = kColours + kColours * 4;  // 9 logits + 9 boxes

// uint8 {B, 3, H, W} images on the device to the network's float input in [0, 1].
inline torch::Tensor network_input(const torch::Tensor& images) { return images.to(torch::kFloat32).div_(255.0); }

// The seed's loss: bce_loss_scale * BCEWithLogits(colour logits, presence) + MSE(all 36 box
// values, scaled target boxes {B, 36}), both means over the batch.
inline torch::Tensor detect_loss(const torch::Tensor& output, const torch::Tensor& presence, const torch::Tensor& boxes,
                                 double bce_loss_scale) {
  namespace F = torch::nn::functional;
  const torch::Tensor logits = output.narrow(1, 0, kColours);
  const torch::Tensor predicted_boxes = output.narrow(1, kColours, kColours * 4);
  return bce_loss_scale * F::binary_cross_entropy_with_logits(logits, presence) + F::mse_loss(predicted_boxes, boxes);
}

}  // namespace hpsearch::detect
