#include "trainers/torch/nn/trial_setup.hpp"

#include "trainers/torch/nn/model_builder.hpp"

namespace hpsearch::nn {

using nlohmann::json;
namespace s = settings;

settings::Table config_table(const std::string& trainer, const ConfigDefaults& defaults, std::vector<settings::Setting> own) {
  // Absent or null means the default: a space may offer {"$choice": [null, 4]}.
  std::vector<s::Setting> keys = {
      s::integer("epochs", defaults.epochs, "epochs to train", 1),
      s::integer("batch_size", defaults.batch_size, "training batch (with --gpus-per-trial: the group's global batch)", 1),
      s::integer("eval_batch_size", defaults.eval_batch_size, "evaluation batch, per rank", 1),
      s::integer("seed", 0, "seed of the initial weights and of every epoch's random draws (batches, augmentation)", 0),
      s::number("time_budget_s", 0,
                "seconds of training: it stops before an epoch that would not fit, judged from the longest epoch so far "
                "(0: no limit; `epoch` in the last report says how many ran)",
                0),
      s::integer("early_stopping", 0, "patience in epochs on the objective, applied by the worker (0: off)", 0),
      s::string("optimizer", "adam", "`adam`, `adamw` or `sgd` (trainers/torch/nn/optimization.hpp)"),
      s::object("optimizer_params",
                "the optimizer's `lr` (1e-3), `betas`, `eps`, `weight_decay`, `amsgrad`, `momentum`, `nesterov`, `dampening`: each "
                "optimizer reads its own, so a space can search the optimizer with its parameters beside it"),
      s::string("scheduler", "step", "`step`, `exponential`, `plateaus`, `phases` or `none`"),
      s::object("scheduler_params",
                "step: `step_size` 40, `gamma` 0.3; exponential: `gamma` 0.95 per epoch; plateaus: `rates` [0.01, 0.001, 0.0001] "
                "for `fractions` [0.5, 0.25, 0.25] of the epochs; phases: `phases` [[lr, epochs], ...] (the last rate stays)"),
      s::object("architecture",
                "the network (trainers/core/architecture.hpp: `act_fn`, `batch_norm`, `dropout_prob`, `layers_param`); "
                "none: " +
                    defaults.architecture),
  };
  for (auto& k : own) keys.push_back(std::move(k));
  for (auto& k : keys) k = s::null_is_default(std::move(k));
  return {trainer + " configuration", std::move(keys), {}};
}

TrialSetup::TrialSetup(const TrialContext& trial, const settings::Table& table, const json& default_architecture)
    : trial_(trial), config_(trial.config, table, "", "") {
  batch_size_ = config_.integer("batch_size");
  eval_batch_size_ = config_.integer("eval_batch_size");
  loop_.epochs = static_cast<int>(config_.integer("epochs"));
  loop_.seed = static_cast<uint64_t>(config_.integer("seed"));
  loop_.time_budget_s = config_.number("time_budget_s");
  loop_.evaluate_before_training = true;
  architecture_ = parse_architecture(config_.has("architecture") ? config_.value("architecture") : default_architecture);
}

ModelCost TrialSetup::cost(const std::vector<int64_t>& input_shape, int64_t outputs) const {
  return describe_architecture(architecture_, input_shape, outputs);
}

TrialModel TrialSetup::build(const std::vector<int64_t>& input_shape, int64_t outputs, const torch::Device& device, ModelCost cost) const {
  seed_torch(loop_.seed, trial_.number, -1);  // the initial weights
  torch::nn::Sequential model = build_model(architecture_, input_shape, outputs);
  model->to(device);
  auto optimizer = make_optimizer(trial_.config, model->parameters());
  return {std::move(cost), model, std::move(optimizer), LearningRateSchedule(trial_.config, loop_.epochs)};
}

}  // namespace hpsearch::nn
