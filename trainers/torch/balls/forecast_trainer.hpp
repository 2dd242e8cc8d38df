#pragma once
// {"type": "forecast", "data": FOLDER, "deterministic": false, "valid_fraction": 0.1, "split_seed": 0}
//
// The seed's ball forecaster (task 2 of shared/seeds/000): an MLP predicts where the 3 balls of
// a COPHY mini_balls_seq sequence are at frame 19 from frames 0-18. As the seed did, only the 3
// present balls are kept, in colour order: input = the 9 presence values followed by their 19 x 3
// boxes (9 + 228 = 237 values), output = their 3 boxes at frame 19 (12 values); every box is
// x1, y1, x2, y2 divided by kBoxScale (trainers/torch/data/balls.hpp). Loss: MSE. A sequence whose
// presence vector does not hold exactly 3 balls is refused when the data is loaded.
//
// Settings as the detect trainer's: `data` (required; a mini_balls_seq folder of p_%05d.npy +
// seq_bb_%05d.npy, made by `hpsearch make-data balls-seq --out DIR`), `deterministic`,
// `valid_fraction` (0.1), `split_seed` (0). The data is read once per trainer object and kept on
// the compute device, already in the network's input form.
//
// Configuration keys (the seed's SEQ_PRED_HP names): forecast_config_table(), the keys of every
// LibTorch trainer (trainers/torch/nn/trial_setup.hpp) with detect's defaults; default architecture:
// the seed's best forecaster (tanh, dropout 0.45, 512-256-128-128).
//
// Reports step 0 (the untrained network), then per epoch: train_loss, valid_loss, centre_error_px (mean distance in pixels between the
// predicted and true centres of the 3 balls at frame 19, over the validation set), parameters.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/settings.hpp"
#include "trainers/core/ball_settings.hpp"
#include "trainers/core/trainer.hpp"

namespace hpsearch {

// The seed's best forecaster (SEQ_PRED_HP["architecture"]) as an `architecture` object.
nlohmann::json default_forecast_architecture();

// The declarations of the trainer's settings and of its configuration keys (as detect's).
const settings::Table& forecast_settings_table();
const settings::Table& forecast_config_table();

struct ForecastDataOnDevice;

class ForecastTrainer : public Trainer {
 public:
  ForecastTrainer(const nlohmann::json& settings, const std::string& file);
  ~ForecastTrainer() override;
  double run(const TrialContext& trial, StepReporter& reporter) override;

 private:
  const ForecastDataOnDevice& data();

  balls::BallTrainerSettings settings_;
  std::unique_ptr<ForecastDataOnDevice> data_;
};

}  // namespace hpsearch
