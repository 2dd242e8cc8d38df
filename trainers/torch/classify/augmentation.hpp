#pragma once
// The data augmentation of seeds 001 and 003 (torchvision's RandomCrop(size, padding=p) and
// RandomHorizontalFlip()), applied to a whole batch on the tensors' device: the random offsets
// and flips are drawn as tensors from Torch's generator and applied with gathers, so no image
// ever goes through the host.
#include <torch/torch.h>

namespace hpsearch::classify {

// `images` is uint8 (or any dtype) {B, C, H, W}. With crop_padding p > 0, each image is padded by
// p zero pixels on every side and an H x W window at a random offset in [0, 2p] x [0, 2p] is kept;
// with flip, each image is mirrored left-right with probability 1/2.
torch::Tensor augment_batch(torch::Tensor images, int64_t crop_padding, bool flip);

}  // namespace hpsearch::classify
