#include "trainers/core/architecture.hpp"

#include <cmath>
#include <sstream>

#include "core/errors.hpp"

namespace hpsearch::nn {

namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& path, const std::string& what) { throw ConfigError(path + ": " + what); }

bool is_integer(const json& v) {
  if (v.is_number_integer()) return true;
  // The seed's Python dictionaries went through JSON and samplers: 3.0 is still an integer.
  return v.is_number_float() && std::isfinite(v.get<double>()) && v.get<double>() == std::floor(v.get<double>());
}

int64_t integer_at_least(const json& v, const std::string& path, int64_t min_value) {
  if (!is_integer(v) || v.get<double>() < static_cast<double>(min_value)) {
    fail(path, "must be an integer >= " + std::to_string(min_value) + ", got " + v.dump());
  }
  return static_cast<int64_t>(v.get<double>());
}

// An integer or a pair [h, w], as the seed wrote kernel_size=(3, 3) or padding=2.
void read_pair(const json& v, const std::string& path, int64_t min_value, int64_t out[2]) {
  if (v.is_array()) {
    if (v.size() != 2) fail(path, "must be an integer or a pair [h, w], got " + v.dump());
    out[0] = integer_at_least(v[0], path + "[0]", min_value);
    out[1] = integer_at_least(v[1], path + "[1]", min_value);
    return;
  }
  out[0] = out[1] = integer_at_least(v, path, min_value);
}

void allow_only(const json& params, const std::string& path, std::initializer_list<const char*> known) {
  for (auto it = params.begin(); it != params.end(); ++it) {
    bool ok = false;
    for (const char* k : known) ok = ok || it.key() == k;
    if (!ok) {
      std::string list;
      for (const char* k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      fail(path + "." + it.key(), "unknown key" + (list.empty() ? std::string(" (this layer takes none)") : "; use " + list));
    }
  }
}

LayerSpec parse_layer(const json& entry, const std::string& path) {
  // ["conv2d", {...}] as the seed's tuples; ["flatten"] alone is accepted too.
  if (!entry.is_array() || entry.empty() || entry.size() > 2 || !entry[0].is_string()) {
    fail(path,
         "must be [KIND, {settings}] with KIND one of conv2d, max_pooling, avg_pooling, flatten, fully_connected; got " + entry.dump());
  }
  LayerSpec layer;
  layer.kind = entry[0].get<std::string>();
  const json params = entry.size() == 2 ? entry[1] : json::object();
  if (!params.is_object()) fail(path + "[1]", "must be an object of layer settings, got " + params.dump());

  if (layer.kind == "conv2d") {
    allow_only(params, path, {"out_channels", "kernel_size", "padding", "stride"});
    if (!params.contains("out_channels")) fail(path + ".out_channels", "is required for conv2d");
    if (!params.contains("kernel_size")) fail(path + ".kernel_size", "is required for conv2d");
    layer.out = integer_at_least(params["out_channels"], path + ".out_channels", 1);
    read_pair(params["kernel_size"], path + ".kernel_size", 1, layer.kernel);
    if (params.contains("padding")) read_pair(params["padding"], path + ".padding", 0, layer.padding);
    if (params.contains("stride")) read_pair(params["stride"], path + ".stride", 1, layer.stride);
  } else if (layer.kind == "max_pooling" || layer.kind == "avg_pooling") {
    allow_only(params, path, {"kernel_size", "stride", "padding"});
    if (!params.contains("kernel_size")) fail(path + ".kernel_size", "is required for " + layer.kind);
    read_pair(params["kernel_size"], path + ".kernel_size", 1, layer.kernel);
    // PyTorch's default stride of a pooling layer is its kernel size.
    layer.stride[0] = layer.kernel[0];
    layer.stride[1] = layer.kernel[1];
    if (params.contains("stride")) read_pair(params["stride"], path + ".stride", 1, layer.stride);
    if (params.contains("padding")) read_pair(params["padding"], path + ".padding", 0, layer.padding);
    if (2 * layer.padding[0] > layer.kernel[0] || 2 * layer.padding[1] > layer.kernel[1]) {
      fail(path + ".padding", "must be at most half the kernel size (as in PyTorch)");
    }
  } else if (layer.kind == "flatten") {
    allow_only(params, path, {});
  } else if (layer.kind == "fully_connected") {
    allow_only(params, path, {"out_features"});
    if (params.contains("out_features") && !params["out_features"].is_null()) {
      layer.out = integer_at_least(params["out_features"], path + ".out_features", 1);
    }
  } else {
    fail(path + "[0]", "unknown layer kind '" + layer.kind + "'; use conv2d, max_pooling, avg_pooling, flatten or fully_connected");
  }
  return layer;
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s;
  for (auto d : shape) s += (s.empty() ? "" : "x") + std::to_string(d);
  return s;
}

int64_t numel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

std::string pair_text(const int64_t v[2]) {
  return v[0] == v[1] ? std::to_string(v[0]) : std::to_string(v[0]) + "x" + std::to_string(v[1]);
}

// Output size of a convolution or pooling along one axis (PyTorch's floor rule).
int64_t sliding_output(int64_t input, int64_t kernel, int64_t stride, int64_t padding) {
  const int64_t span = input + 2 * padding - kernel;
  return span < 0 ? 0 : span / stride + 1;
}

}  // namespace

Architecture parse_architecture(const json& architecture) {
  const std::string root = "architecture";
  if (!architecture.is_object())
    fail(root, "must be an object with act_fn, batch_norm, dropout_prob and layers_param, got " + architecture.dump());
  allow_only(architecture, root, {"act_fn", "batch_norm", "dropout_prob", "layers_param"});
  Architecture a;

  if (architecture.contains("act_fn")) {
    const json& act = architecture["act_fn"];
    static const char* kActivations[] = {"relu", "leaky_relu", "tanh", "sigmoid", "elu", "gelu"};
    bool known = false;
    for (const char* k : kActivations) known = known || (act.is_string() && act.get<std::string>() == k);
    if (!known) fail(root + ".act_fn", "must be one of relu, leaky_relu, tanh, sigmoid, elu, gelu; got " + act.dump());
    a.activation = act.get<std::string>();
  }

  if (architecture.contains("batch_norm") && !architecture["batch_norm"].is_null()) {
    const json& bn = architecture["batch_norm"];
    const std::string path = root + ".batch_norm";
    if (!bn.is_object()) fail(path, "must be an object {\"eps\", \"momentum\", \"affine\"} or null for none, got " + bn.dump());
    allow_only(bn, path, {"eps", "momentum", "affine"});
    BatchNormSettings s;
    if (bn.contains("eps")) {
      if (!bn["eps"].is_number() || bn["eps"].get<double>() <= 0) fail(path + ".eps", "must be a number > 0, got " + bn["eps"].dump());
      s.eps = bn["eps"].get<double>();
    }
    if (bn.contains("momentum")) {
      const json& m = bn["momentum"];
      if (!m.is_number() || m.get<double>() < 0 || m.get<double>() > 1)
        fail(path + ".momentum", "must be a number in [0, 1], got " + m.dump());
      s.momentum = m.get<double>();
    }
    if (bn.contains("affine")) {
      if (!bn["affine"].is_boolean()) fail(path + ".affine", "must be true or false, got " + bn["affine"].dump());
      s.affine = bn["affine"].get<bool>();
    }
    a.batch_norm = s;
  }

  if (architecture.contains("dropout_prob") && !architecture["dropout_prob"].is_null()) {
    const json& p = architecture["dropout_prob"];
    // 1 would zero every input: the seed's old "keep probability" habit, refused rather than
    // silently training a network that sees nothing.
    if (!p.is_number() || p.get<double>() < 0 || p.get<double>() >= 1) {
      fail(root + ".dropout_prob", "must be a probability in [0, 1) of zeroing an input (0: no dropout), got " + p.dump());
    }
    a.dropout_prob = p.get<double>();
  }

  if (!architecture.contains("layers_param")) fail(root + ".layers_param", "is required: a list of [KIND, {settings}] layer specs");
  const json& layers = architecture["layers_param"];
  if (!layers.is_array() || layers.empty()) fail(root + ".layers_param", "must be a non-empty list of [KIND, {settings}] layer specs");
  bool flat = false;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const std::string path = root + ".layers_param[" + std::to_string(i) + "]";
    LayerSpec layer = parse_layer(layers[i], path);
    if (layer.is_output() && i + 1 != layers.size()) {
      fail(path + ".out_features", "only the last layer may omit out_features (it is the output layer)");
    }
    if ((layer.kind == "conv2d" || layer.kind == "max_pooling" || layer.kind == "avg_pooling") && flat) {
      fail(path, layer.kind + " after flatten or fully_connected: the features are no longer an image");
    }
    if (layer.kind == "flatten" || layer.kind == "fully_connected") flat = true;
    a.layers.push_back(layer);
  }
  return a;
}

ModelCost describe_architecture(const Architecture& architecture, const std::vector<int64_t>& input_shape, int64_t output_features) {
  if (input_shape.size() != 3 && input_shape.size() != 1) throw ConfigError("input shape must be {C, H, W} or {F}");
  for (auto d : input_shape) {
    if (d <= 0) throw ConfigError("input shape " + shape_text(input_shape) + " has an empty dimension");
  }
  if (output_features <= 0) throw ConfigError("the output layer needs at least one feature");

  std::vector<LayerSpec> layers = architecture.layers;
  if (layers.empty() || !layers.back().is_output()) {
    LayerSpec output;
    output.kind = "fully_connected";
    layers.push_back(output);
  }

  ModelCost cost;
  std::vector<int64_t> shape = input_shape;
  auto add = [&](LayerCost row) {
    cost.parameters += row.parameters;
    cost.multiplications += row.multiplications;
    cost.additions += row.additions;
    cost.maximums += row.maximums;
    shape = row.output_shape;
    cost.layers.push_back(std::move(row));
  };
  // Costs are those of the evaluation forward pass of one sample: dropout is the identity then,
  // and batch norm with running statistics is one multiplication and one addition per element.
  auto hidden_extras_before = [&]() {
    if (architecture.dropout_prob <= 0) return;
    LayerCost row;
    std::ostringstream name;
    name << "dropout p=" << architecture.dropout_prob;
    row.name = name.str();
    row.input_shape = row.output_shape = shape;
    add(row);
  };
  auto hidden_extras_after = [&]() {
    const int64_t n = numel(shape);
    LayerCost act;
    act.name = architecture.activation;
    act.input_shape = act.output_shape = shape;
    if (architecture.activation == "relu") {
      act.maximums = n;
    } else if (architecture.activation == "leaky_relu") {
      act.maximums = n;         // max(x, 0) ...
      act.multiplications = n;  // ... plus slope * min(x, 0)
      act.additions = n;
    }
    // tanh, sigmoid, elu and gelu are one special-function evaluation per element, which does
    // not map onto multiply/add counts; they are listed with their shapes and no cost.
    add(act);
    if (architecture.batch_norm) {
      LayerCost bn;
      const int64_t channels = shape[0];
      bn.name = std::string(shape.size() == 3 ? "batch_norm2d " : "batch_norm1d ") + std::to_string(channels);
      bn.input_shape = bn.output_shape = shape;
      if (architecture.batch_norm->affine) {
        bn.weights = {{"weight", {channels}}, {"bias", {channels}}};
        bn.parameters = 2 * channels;
      }
      bn.multiplications = n;
      bn.additions = n;
      add(bn);
    }
  };

  for (std::size_t i = 0; i < layers.size(); ++i) {
    const LayerSpec& layer = layers[i];
    const std::string where = "layers_param[" + std::to_string(i) + "] (" + layer.kind + ")";
    if (layer.kind == "conv2d" || layer.kind == "max_pooling" || layer.kind == "avg_pooling") {
      if (shape.size() != 3) throw ConfigError(where + ": needs an image input {C, H, W}, got " + shape_text(shape));
      const int64_t c = shape[0], h = shape[1], w = shape[2];
      const int64_t ho = sliding_output(h, layer.kernel[0], layer.stride[0], layer.padding[0]);
      const int64_t wo = sliding_output(w, layer.kernel[1], layer.stride[1], layer.padding[1]);
      if (ho <= 0 || wo <= 0) {
        throw ConfigError(where + ": kernel " + pair_text(layer.kernel) + " with padding " + pair_text(layer.padding) +
                          " does not fit the " + shape_text(shape) + " input");
      }
      const int64_t k = layer.kernel[0] * layer.kernel[1];
      if (layer.kind == "conv2d") {
        hidden_extras_before();
        LayerCost row;
        row.name = "conv2d " + std::to_string(c) + "->" + std::to_string(layer.out) + " " + std::to_string(layer.kernel[0]) + "x" +
                   std::to_string(layer.kernel[1]);
        if (layer.padding[0] || layer.padding[1]) row.name += " pad " + pair_text(layer.padding);
        if (layer.stride[0] != 1 || layer.stride[1] != 1) row.name += " stride " + pair_text(layer.stride);
        row.input_shape = shape;
        row.output_shape = {layer.out, ho, wo};
        row.weights = {{"weight", {layer.out, c, layer.kernel[0], layer.kernel[1]}}, {"bias", {layer.out}}};
        row.parameters = layer.out * c * k + layer.out;
        // Each output element: c*k products summed (c*k - 1 additions) plus the bias.
        row.multiplications = layer.out * ho * wo * c * k;
        row.additions = layer.out * ho * wo * c * k;
        add(row);
        hidden_extras_after();
      } else {
        LayerCost row;
        row.name = layer.kind + " " + std::to_string(layer.kernel[0]) + "x" + std::to_string(layer.kernel[1]);
        if (layer.stride[0] != layer.kernel[0] || layer.stride[1] != layer.kernel[1]) row.name += " stride " + pair_text(layer.stride);
        if (layer.padding[0] || layer.padding[1]) row.name += " pad " + pair_text(layer.padding);
        row.input_shape = shape;
        row.output_shape = {c, ho, wo};
        if (layer.kind == "max_pooling") {
          row.maximums = c * ho * wo * (k - 1);
        } else {
          row.additions = c * ho * wo * (k - 1);
          row.multiplications = c * ho * wo;  // the sum times 1/k
        }
        add(row);
      }
    } else if (layer.kind == "flatten" || (layer.kind == "fully_connected" && shape.size() == 3)) {
      LayerCost row;
      row.name = layer.kind == "flatten" ? "flatten" : "flatten (implicit)";
      row.input_shape = shape;
      row.output_shape = {numel(shape)};
      add(row);
      if (layer.kind == "flatten") continue;
    }
    if (layer.kind == "fully_connected") {
      const bool output = layer.is_output();
      if (!output) hidden_extras_before();
      const int64_t in = shape[0], out = output ? output_features : layer.out;
      LayerCost row;
      row.name = std::string(output ? "output " : "") + "linear " + std::to_string(in) + "->" + std::to_string(out);
      row.input_shape = shape;
      row.output_shape = {out};
      row.weights = {{"weight", {out, in}}, {"bias", {out}}};
      row.parameters = out * in + out;
      row.multiplications = out * in;
      row.additions = out * in;
      add(row);
      if (!output) hidden_extras_after();
    }
  }
  return cost;
}

}  // namespace hpsearch::nn
