#include "trainers/torch/classify/augmentation.hpp"

namespace hpsearch::classify {

torch::Tensor augment_batch(torch::Tensor images, int64_t crop_padding, bool flip) {
  const int64_t b = images.size(0), c = images.size(1), h = images.size(2), w = images.size(3);
  const torch::TensorOptions long_options = torch::TensorOptions().dtype(torch::kInt64).device(images.device());
  if (crop_padding > 0) {
    const int64_t p = crop_padding;
    const torch::Tensor padded = torch::constant_pad_nd(images, {p, p, p, p}, 0);
    const torch::Tensor dy = torch::randint(0, 2 * p + 1, {b, 1}, long_options);
    const torch::Tensor dx = torch::randint(0, 2 * p + 1, {b, 1}, long_options);
    // Row then column gathers: out[i, :, y, x] = padded[i, :, dy[i] + y, dx[i] + x].
    const torch::Tensor rows = (dy + torch::arange(h, long_options).unsqueeze(0)).view({b, 1, h, 1}).expand({b, c, h, w + 2 * p});
    const torch::Tensor cols = (dx + torch::arange(w, long_options).unsqueeze(0)).view({b, 1, 1, w}).expand({b, c, h, w});
    images = padded.gather(2, rows).gather(3, cols);
  }
  if (flip) {
    const torch::Tensor mirrored = torch::randint(0, 2, {b, 1, 1, 1}, long_options).to(torch::kBool);
    images = torch::where(mirrored, images.flip({3}), images);
  }
  return images;
}

}  // namespace hpsearch::classify
