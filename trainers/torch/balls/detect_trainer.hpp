#pragma once
// {"type": "detect", "data": FOLDER, "deterministic": false, "valid_fraction": 0.1, "split_seed": 0}
//
// The seed's ball detector (task 1 of shared/seeds/000): a layer-spec CNN reads a 100x100 RGB
// image of COPHY's mini_balls and outputs 9 colour logits (one per colour of kBallColours) and
// 9 boxes x1, y1, x2, y2 divided by kBoxScale (trainers/torch/data/balls.hpp). Loss, as the seed's:
//   bce_loss_scale * BCEWithLogits(logits, presence) + MSE(boxes, target boxes)
// where the MSE covers all 9 rows (36 values), the 6 absent colours' rows having zero targets:
// the seed flattened the whole (9, 4) box tensor into its MSELoss.
//
// Settings: `data` (required) is a mini_balls folder (img_%05d.jpg + p_bb_%05d.npy; make one with
// `hpsearch make-data balls --out DIR`), checked when the trainer is made. It is read once per
// trainer object (one per worker, for the whole search) and kept on the compute device: images as
// uint8, converted to float in [0, 1] per batch on the device (the seed fed 0..255 floats; the
// scale is folded into the input so that layers without batch norm start in a sane range).
// `valid_fraction` of the samples, drawn with `split_seed`, are the validation set of every trial.
// `deterministic` asks cuDNN for deterministic algorithms (otherwise its autotuner is on).
//
// Configuration keys (the seed's DETECTOR_HP names): detect_config_table(), the keys of every
// LibTorch trainer (trainers/torch/nn/trial_setup.hpp; epochs 90, batch_size 16, eval_batch_size
// 1024, default architecture: the seed's best detector) and bce_loss_scale (0.1).
//
// Reports step 0 (the untrained network: validation metrics only), then per epoch: train_loss
// (mean over the epoch's training batches), valid_loss,
// colour_accuracy (share of validation images whose 3 largest logits are exactly the 3 present
// colours), mean_iou (mean IoU of the predicted and true boxes of the present balls, in pixels),
// centre_error_px (mean distance in pixels between predicted and true box centres of the present
// balls), plus parameters, lr and epoch times. Checkpoints go to the trial folder (epoch loop).
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/settings.hpp"
#include "trainers/core/ball_settings.hpp"
#include "trainers/core/trainer.hpp"

namespace hpsearch {

// The seed's best detector (DETECTOR_HP["architecture"]) as an `architecture` object.
nlohmann::json default_detect_architecture();

// The declarations of the trainer's settings (the space file's "trainer" object) and of the keys
// of a trial's configuration it reads: what it accepts and the README's tables of them.
const settings::Table& detect_settings_table();
const settings::Table& detect_config_table();

struct DetectDataOnDevice;  // defined in the .cpp: keeps LibTorch types out of this header

class DetectTrainer : public Trainer {
 public:
  DetectTrainer(const nlohmann::json& settings, const std::string& file);
  ~DetectTrainer() override;
  double run(const TrialContext& trial, StepReporter& reporter) override;

 private:
  const DetectDataOnDevice& data();

  balls::BallTrainerSettings settings_;
  std::unique_ptr<DetectDataOnDevice> data_;
};

}  // namespace hpsearch
