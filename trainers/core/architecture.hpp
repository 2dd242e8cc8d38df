#pragma once
// A network described as the seed projects did it: a list of layer specs plus a few settings
// shared by every hidden layer. Torch-free, so that `hpsearch describe`, the `max_params` check
// and the master can reason about a model without building it.
//
// In a resolved configuration (JSON), under the key `architecture`:
//   "act_fn":       "relu" | "leaky_relu" | "tanh" | "sigmoid" | "elu" | "gelu"   (default "relu")
//   "batch_norm":   {"eps": 1e-5, "momentum": 0.1, "affine": true}, or null/absent for none
//   "dropout_prob": probability of zeroing an input of a hidden layer, 0 (default) for none
//   "layers_param": [ ["conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 0, "stride": 1}],
//                     ["max_pooling", {"kernel_size": 2, "stride": 2}],      // also "avg_pooling"
//                     ["flatten", {}],
//                     ["fully_connected", {"out_features": 64}],
//                     ["fully_connected", {}] ]   // no out_features: the output layer
// kernel_size, padding and stride are an integer or a pair [h, w] (the seed wrote (3, 3)).
// A hidden conv2d or fully_connected layer is [dropout] -> conv/linear -> activation -> [batch norm]
// (the seed's order); pooling and flatten are just that; the output layer is a bare linear layer
// whose width is the task's output size. A fully_connected after a conv stack without a flatten
// gets an implicit flatten. Without an output layer, one is appended.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace hpsearch::nn {

struct BatchNormSettings {
  double eps = 1e-5;
  double momentum = 0.1;
  bool affine = true;
};

struct LayerSpec {
  std::string kind;  // conv2d, max_pooling, avg_pooling, flatten, fully_connected
  int64_t out = 0;   // out_channels or out_features; 0 for the output layer
  int64_t kernel[2] = {1, 1};
  int64_t stride[2] = {1, 1};
  int64_t padding[2] = {0, 0};
  bool is_output() const { return kind == "fully_connected" && out == 0; }
};

struct Architecture {
  std::string activation = "relu";
  std::optional<BatchNormSettings> batch_norm;
  double dropout_prob = 0.0;
  std::vector<LayerSpec> layers;
};

// Reads `architecture` (the object above). Throws ConfigError whose message starts with
// the JSON path of the culprit ("architecture.layers_param[3].kernel_size: ...").
Architecture parse_architecture(const nlohmann::json& architecture);

// One row of `hpsearch describe`: a layer (or a hidden layer's activation / batch norm / dropout)
// with its tensor sizes, weights and costs per sample (batch size 1).
struct LayerCost {
  std::string name;                  // "conv2d 3->32 5x5 pad 2", "relu", "max_pooling 2x2", ...
  std::vector<int64_t> input_shape;  // per sample: {C, H, W} or {F}
  std::vector<int64_t> output_shape;
  std::vector<std::pair<std::string, std::vector<int64_t>>> weights;  // {"weight", {32, 3, 5, 5}}, {"bias", {32}}
  int64_t parameters = 0;                                             // trainable parameters
  int64_t multiplications = 0;
  int64_t additions = 0;
  int64_t maximums = 0;  // comparisons of max pooling and ReLU
};

struct ModelCost {
  std::vector<LayerCost> layers;
  int64_t parameters = 0, multiplications = 0, additions = 0, maximums = 0;
};

// Shapes, parameter counts and operation counts of `architecture` applied to one sample of
// `input_shape`, with an output layer of `output_features`. Throws ConfigError when a
// layer does not fit its input (e.g. a kernel larger than the padded image), naming the layer.
ModelCost describe_architecture(const Architecture& architecture, const std::vector<int64_t>& input_shape, int64_t output_features);

}  // namespace hpsearch::nn
