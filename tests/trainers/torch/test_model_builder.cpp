// Layer-spec architectures: the seed's best detector comes out with the shapes its log shows,
// both on paper (describe_architecture) and in a real forward pass of the built module; parse
// errors name the JSON path of the culprit.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "core/errors.hpp"
#include "trainers/core/architecture.hpp"
#include "trainers/torch/nn/model_builder.hpp"

using namespace hpsearch::nn;
using nlohmann::json;

namespace {

// The seed's DETECTOR_HP architecture, written as in spaces/detect.json.
const json kBestDetector = json::parse(R"({
  "act_fn": "relu",
  "batch_norm": {"eps": 1e-05, "momentum": 0.07359778246238029, "affine": true},
  "dropout_prob": 0.0,
  "layers_param": [
    ["conv2d", {"out_channels": 4, "kernel_size": [3, 3], "padding": 0}],
    ["conv2d", {"out_channels": 4, "kernel_size": [3, 3], "padding": 0}],
    ["conv2d", {"out_channels": 4, "kernel_size": [3, 3], "padding": 0}],
    ["avg_pooling", {"kernel_size": [2, 2], "stride": [2, 2]}],
    ["conv2d", {"out_channels": 16, "kernel_size": [5, 5], "padding": 0}],
    ["conv2d", {"out_channels": 16, "kernel_size": [5, 5], "padding": 0}],
    ["avg_pooling", {"kernel_size": [2, 2], "stride": [2, 2]}],
    ["conv2d", {"out_channels": 32, "kernel_size": [5, 5], "padding": 2}],
    ["conv2d", {"out_channels": 32, "kernel_size": [7, 7], "padding": 3}],
    ["avg_pooling", {"kernel_size": [2, 2], "stride": [2, 2]}],
    ["conv2d", {"out_channels": 64, "kernel_size": [5, 5], "padding": 2}],
    ["flatten", {}],
    ["fully_connected", {}]]})");

std::string parse_error(const json& architecture) {
  try {
    parse_architecture(architecture);
  } catch (const hpsearch::ConfigError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST(Architecture, SeedBestDetectorHasTheLoggedShapes) {
  const ModelCost cost = describe_architecture(parse_architecture(kBestDetector), {3, 100, 100}, 45);
  // Spatial size after every conv2d and pooling layer, as the seed's log printed them.
  std::vector<int64_t> sides;
  std::vector<std::string> names;
  for (const auto& row : cost.layers) {
    if (row.name.rfind("conv2d", 0) == 0 || row.name.rfind("avg_pooling", 0) == 0) sides.push_back(row.output_shape[1]);
    names.push_back(row.name);
  }
  EXPECT_EQ(sides, (std::vector<int64_t>{98, 96, 94, 47, 43, 39, 19, 19, 19, 9, 9}));
  const auto& last = cost.layers.back();
  EXPECT_EQ(last.name, "output linear 5184->45");
  EXPECT_EQ(last.input_shape, (std::vector<int64_t>{5184}));
  EXPECT_EQ(last.weights[0].second, (std::vector<int64_t>{45, 5184}));
  // Each hidden conv2d is conv -> relu -> batch norm (no dropout at p = 0).
  EXPECT_EQ(names[0], "conv2d 3->4 3x3");
  EXPECT_EQ(names[1], "relu");
  EXPECT_EQ(names[2], "batch_norm2d 4");
  EXPECT_EQ(names[9], "avg_pooling 2x2");

  // Parameters by hand: conv weights + biases, batch norm gamma + beta, the output layer.
  const int64_t convs = (4 * 3 * 9 + 4) + 2 * (4 * 4 * 9 + 4) + (16 * 4 * 25 + 16) + (16 * 16 * 25 + 16) + (32 * 16 * 25 + 32) +
                        (32 * 32 * 49 + 32) + (64 * 32 * 25 + 64);
  const int64_t norms = 2 * (4 + 4 + 4 + 16 + 16 + 32 + 32 + 64);
  const int64_t output = 5184 * 45 + 45;
  EXPECT_EQ(cost.parameters, convs + norms + output);
  // The first conv: 4 x 98 x 98 outputs of 27 products each.
  EXPECT_EQ(cost.layers[0].multiplications, 4 * 98 * 98 * 27);
  EXPECT_EQ(cost.layers[1].maximums, 4 * 98 * 98);
}

TEST(ModelBuilder, SeedBestDetectorForwardPassMatchesTheDescription) {
  const Architecture a = parse_architecture(kBestDetector);
  torch::nn::Sequential model = build_model(a, {3, 100, 100}, 45);
  const ModelCost cost = describe_architecture(a, {3, 100, 100}, 45);

  int64_t parameters = 0;
  for (const auto& p : model->parameters()) parameters += p.numel();
  EXPECT_EQ(parameters, cost.parameters);

  // Run the real module layer by layer and compare every intermediate shape with the rows.
  model->eval();
  torch::NoGradGuard no_grad;
  torch::Tensor x = torch::rand({2, 3, 100, 100});
  ASSERT_EQ(model->size(), cost.layers.size());
  std::size_t i = 0;
  for (auto& layer : *model) {
    x = layer.forward(x);
    std::vector<int64_t> expected = {2};
    for (auto d : cost.layers[i].output_shape) expected.push_back(d);
    EXPECT_EQ(x.sizes().vec(), expected) << "layer " << i << ": " << cost.layers[i].name;
    ++i;
  }
  EXPECT_TRUE(torch::isfinite(x).all().item<bool>());
}

TEST(ModelBuilder, InitialisationFollowsTheSeed) {
  json spec = kBestDetector;
  spec["layers_param"] = json::parse(
      R"([["conv2d", {"out_channels": 8, "kernel_size": 3}], ["fully_connected", {"out_features": 16}], ["fully_connected", {}]])");
  torch::manual_seed(0);
  torch::nn::Sequential model = build_model(parse_architecture(spec), {3, 10, 10}, 5);
  for (const auto& item : model->named_parameters()) {
    // Conv, linear and batch-norm biases all start at zero.
    if (item.key().find("bias") != std::string::npos) {
      EXPECT_EQ(item.value().abs().sum().item<double>(), 0.0) << item.key();
    }
  }
  // Xavier uniform with the ReLU gain bounds the linear weights by gain * sqrt(6 / (in + out)).
  const auto linear = model[4]->as<torch::nn::Linear>();
  ASSERT_NE(linear, nullptr);
  EXPECT_LE(linear->weight.abs().max().item<double>(), std::sqrt(2.0) * std::sqrt(6.0 / (8 * 8 * 8 + 16)) + 1e-6);
  EXPECT_EQ(linear->bias.abs().sum().item<double>(), 0.0);
}

TEST(ModelBuilder, MultilayerPerceptronWithDropoutAndBatchNorm) {
  const json spec = json::parse(R"({"act_fn": "tanh", "dropout_prob": 0.45, "batch_norm": {"momentum": 0.1},
    "layers_param": [["fully_connected", {"out_features": 512}], ["fully_connected", {"out_features": 128}]]})");
  const Architecture a = parse_architecture(spec);
  const ModelCost cost = describe_architecture(a, {237}, 12);
  // dropout, linear, tanh, batch norm twice, then the appended output layer.
  ASSERT_EQ(cost.layers.size(), 9u);
  EXPECT_EQ(cost.layers[0].name, "dropout p=0.45");
  EXPECT_EQ(cost.layers[8].name, "output linear 128->12");
  EXPECT_EQ(cost.parameters, (237 * 512 + 512) + 2 * 512 + (512 * 128 + 128) + 2 * 128 + (128 * 12 + 12));
  torch::nn::Sequential model = build_model(a, {237}, 12);
  model->train();
  EXPECT_EQ(model->forward(torch::rand({4, 237})).sizes().vec(), (std::vector<int64_t>{4, 12}));
}

TEST(Architecture, ParseErrorsNameThePath) {
  json a = kBestDetector;
  a["layers_param"][3][1]["kernel_size"] = 0;
  EXPECT_EQ(parse_error(a), "architecture.layers_param[3].kernel_size: must be an integer >= 1, got 0");
  a = kBestDetector;
  a["layers_param"][0][1]["kernel_size"] = json::array({3, 3, 3});
  EXPECT_EQ(parse_error(a), "architecture.layers_param[0].kernel_size: must be an integer or a pair [h, w], got [3,3,3]");
  a = kBestDetector;
  a["layers_param"][1][0] = "conv3d";
  EXPECT_EQ(parse_error(a).rfind("architecture.layers_param[1][0]: unknown layer kind 'conv3d'", 0), 0u) << parse_error(a);
  a = kBestDetector;
  a["layers_param"][4][1]["out_chanels"] = 3;
  EXPECT_EQ(parse_error(a).rfind("architecture.layers_param[4].out_chanels: unknown key", 0), 0u) << parse_error(a);
  a = kBestDetector;
  a["act_fn"] = "swish";
  EXPECT_EQ(parse_error(a).rfind("architecture.act_fn: must be one of", 0), 0u);
  a = kBestDetector;
  a["dropout_prob"] = 1.0;
  EXPECT_EQ(parse_error(a).rfind("architecture.dropout_prob: must be a probability in [0, 1)", 0), 0u);
  a = kBestDetector;
  a["batch_norm"]["momentum"] = "fast";
  EXPECT_EQ(parse_error(a), "architecture.batch_norm.momentum: must be a number in [0, 1], got \"fast\"");
  a = kBestDetector;
  a["layers_param"][11] = json::parse(R"(["fully_connected", {}])");
  EXPECT_EQ(parse_error(a),
            "architecture.layers_param[11].out_features: only the last layer may omit out_features (it is the output layer)");
  a = kBestDetector;
  a.erase("layers_param");
  EXPECT_EQ(parse_error(a).rfind("architecture.layers_param: is required", 0), 0u);

  // A layer that does not fit its input is named too.
  const json tiny = json::parse(R"({"layers_param": [["conv2d", {"out_channels": 2, "kernel_size": 7}], ["fully_connected", {}]]})");
  try {
    describe_architecture(parse_architecture(tiny), {1, 5, 5}, 3);
    FAIL() << "a 7x7 kernel on a 5x5 image was accepted";
  } catch (const hpsearch::ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), "layers_param[0] (conv2d): kernel 7 with padding 0 does not fit the 1x5x5 input");
  }
}
