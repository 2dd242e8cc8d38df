#include "trainers/torch/nn/model_builder.hpp"

#include <cmath>

#include "core/errors.hpp"

namespace hpsearch::nn {

namespace {

// torch.nn.init.calculate_gain's values, written out because the C++ API's nonlinearity
// argument type changed between LibTorch versions. PyTorch has no gain for elu and gelu; the
// seed only used relu, leaky_relu and tanh, so they get the linear gain.
double activation_gain(const std::string& activation) {
  if (activation == "relu") return std::sqrt(2.0);
  if (activation == "leaky_relu") return std::sqrt(2.0 / (1.0 + 0.01 * 0.01));
  if (activation == "tanh") return 5.0 / 3.0;
  return 1.0;
}

void push_activation(torch::nn::Sequential& model, const std::string& activation) {
  if (activation == "relu")
    model->push_back(torch::nn::ReLU());
  else if (activation == "leaky_relu")
    model->push_back(torch::nn::LeakyReLU());
  else if (activation == "tanh")
    model->push_back(torch::nn::Tanh());
  else if (activation == "sigmoid")
    model->push_back(torch::nn::Sigmoid());
  else if (activation == "elu")
    model->push_back(torch::nn::ELU());
  else if (activation == "gelu")
    model->push_back(torch::nn::GELU());
  else
    throw ConfigError("architecture.act_fn: unknown activation '" + activation + "'");
}

}  // namespace

torch::nn::Sequential build_model(const Architecture& architecture, const std::vector<int64_t>& input_shape, int64_t output_features) {
  // describe_architecture checks that every layer fits its input and gives each layer's input
  // shape, so the builder never has to run a dummy forward pass as the seed did.
  const ModelCost cost = describe_architecture(architecture, input_shape, output_features);
  const double gain = activation_gain(architecture.activation);
  torch::nn::Sequential model;

  auto hidden_before = [&]() {
    if (architecture.dropout_prob <= 0) return;
    // Element-wise dropout on the layer's input, as the seed's nn.Dropout before conv and linear.
    model->push_back(torch::nn::Dropout(torch::nn::DropoutOptions(architecture.dropout_prob)));
  };
  auto hidden_after = [&](int64_t features, bool image) {
    push_activation(model, architecture.activation);
    if (!architecture.batch_norm) return;
    const BatchNormSettings& s = *architecture.batch_norm;
    if (image) {
      torch::nn::BatchNorm2d bn(torch::nn::BatchNorm2dOptions(features).eps(s.eps).momentum(s.momentum).affine(s.affine));
      if (s.affine) {
        // The seed's init of batch norm: gamma uniform in [0, 1), beta zero.
        torch::NoGradGuard no_grad;
        bn->weight.uniform_(0.0, 1.0);
        bn->bias.zero_();
      }
      model->push_back(bn);
    } else {
      torch::nn::BatchNorm1d bn(torch::nn::BatchNorm1dOptions(features).eps(s.eps).momentum(s.momentum).affine(s.affine));
      if (s.affine) {
        torch::NoGradGuard no_grad;
        bn->weight.uniform_(0.0, 1.0);
        bn->bias.zero_();
      }
      model->push_back(bn);
    }
  };

  // Walk the layer specs with the shapes describe_architecture computed: the cost rows of a
  // conv2d/linear carry their input shape.
  std::vector<LayerSpec> layers = architecture.layers;
  if (layers.empty() || !layers.back().is_output()) {
    LayerSpec output;
    output.kind = "fully_connected";
    layers.push_back(output);
  }
  std::vector<int64_t> shape = input_shape;
  std::size_t row = 0;  // index into cost.layers, kept in step with the layers pushed
  auto advance_to = [&](const std::string& prefix) {
    while (row < cost.layers.size() && cost.layers[row].name.rfind(prefix, 0) != 0) ++row;
    if (row == cost.layers.size()) throw Error("build_model: no cost row for " + prefix);
    shape = cost.layers[row].input_shape;
    return cost.layers[row++].output_shape;
  };

  for (const LayerSpec& layer : layers) {
    if (layer.kind == "conv2d") {
      const std::vector<int64_t> out_shape = advance_to("conv2d");
      hidden_before();
      torch::nn::Conv2d conv(torch::nn::Conv2dOptions(shape[0], layer.out, {layer.kernel[0], layer.kernel[1]})
                                 .stride({layer.stride[0], layer.stride[1]})
                                 .padding({layer.padding[0], layer.padding[1]}));
      {
        torch::NoGradGuard no_grad;
        torch::nn::init::xavier_normal_(conv->weight, gain);
        conv->bias.zero_();
      }
      model->push_back(conv);
      hidden_after(layer.out, true);
      shape = out_shape;
    } else if (layer.kind == "max_pooling") {
      shape = advance_to("max_pooling");
      model->push_back(torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions({layer.kernel[0], layer.kernel[1]})
                                                .stride({layer.stride[0], layer.stride[1]})
                                                .padding({layer.padding[0], layer.padding[1]})));
    } else if (layer.kind == "avg_pooling") {
      shape = advance_to("avg_pooling");
      model->push_back(torch::nn::AvgPool2d(torch::nn::AvgPool2dOptions({layer.kernel[0], layer.kernel[1]})
                                                .stride({layer.stride[0], layer.stride[1]})
                                                .padding({layer.padding[0], layer.padding[1]})));
    } else if (layer.kind == "flatten") {
      shape = advance_to("flatten");
      model->push_back(torch::nn::Flatten());
    } else if (layer.kind == "fully_connected") {
      if (shape.size() == 3) {
        shape = advance_to("flatten");
        model->push_back(torch::nn::Flatten());
      }
      const bool output = layer.is_output();
      const std::vector<int64_t> out_shape = advance_to(output ? "output linear" : "linear");
      if (!output) hidden_before();
      torch::nn::Linear linear(torch::nn::LinearOptions(shape[0], out_shape[0]));
      {
        torch::NoGradGuard no_grad;
        torch::nn::init::xavier_uniform_(linear->weight, gain);
        linear->bias.zero_();
      }
      model->push_back(linear);
      if (!output) hidden_after(out_shape[0], false);
      shape = out_shape;
    }
  }
  return model;
}

}  // namespace hpsearch::nn
