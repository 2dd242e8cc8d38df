#pragma once
// {"type": "classify", "data": FOLDER, "deterministic": false, "max_params": N,
//  "train_subset": N, "test_subset": N}
//
// Image classification (CIFAR-10, MNIST, Fashion-MNIST) with a layer-spec network
// (trainers/core/architecture.hpp), the task of seeds 001 and 003. The data folder's format is
// recognised from its files (trainers/torch/data/classification.hpp) and checked when the trainer is
// made, so that a wrong folder stops the search before any trial. The images are read once per
// trainer object (one per worker) and kept on the compute device as uint8; batches, augmentation
// and normalisation are made there, and the host sees one number per metric per epoch.
//
// Settings: `max_params` refuses larger models (a configuration key of that name overrides it);
// `train_subset` / `test_subset` keep the first N images of each set (quick runs, tests);
// `deterministic` asks cuDNN for deterministic algorithms.
//
// Configuration keys (detect's names where they mean the same): classify_config_table(), the keys
// of every LibTorch trainer (trainers/torch/nn/trial_setup.hpp; epochs 10, batch_size 64,
// eval_batch_size 1000, default architecture: seed 003's network) and augmentation
// {"random_crop_padding": 0, "horizontal_flip": false}, normalize (true: per-channel mean and
// standard deviation of the training set), max_params.
//
// Reports step 0 (the untrained network) and one step per epoch: train_loss, train_accuracy (the
// training set without augmentation, in evaluation mode), test_loss, test_accuracy, running_loss
// and running_accuracy (the epoch's training batches as trained), parameters, operations (per
// image), epoch_time_s, lr. At the end the trial folder gets classification.json: class names,
// per-class test accuracy and the confusion matrix (rows: true class, columns: predicted); the
// report of the last scheduled epoch carries them too (per_class_accuracy, confusion_matrix).
//
// In a trial group (--gpus-per-trial) `batch_size` is the global batch: it is augmented whole,
// each rank trains on its rows with averaged gradients (nn::DataParallel), and evaluation is split
// over the ranks and summed, so that the group trains what one rank would.
//
// A configuration whose model has more than max_params parameters never trains: the trial fails
// with a reason starting "infeasible:" that gives the count, so the TPE sampler avoids that region.
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/settings.hpp"
#include "trainers/core/trainer.hpp"

namespace hpsearch {

// The seed-003 network (conv 32/64/64 5x5 pad 2 + ReLU, 2x2 max pooling after each, fc 1000, fc
// to the classes) as an `architecture` object.
nlohmann::json default_classify_architecture();

// The declarations of the trainer's settings (the space file's "trainer" object) and of the keys
// of a trial's configuration it reads: what it accepts and the README's tables of them.
const settings::Table& classify_settings_table();
const settings::Table& classify_config_table();

struct ClassifyDataOnDevice;  // defined in the .cpp: keeps LibTorch types out of this header

class ClassifyTrainer : public Trainer {
 public:
  ClassifyTrainer(const nlohmann::json& settings, const std::string& file);
  ~ClassifyTrainer() override;
  double run(const TrialContext& trial, StepReporter& reporter) override;

 private:
  const ClassifyDataOnDevice& data();

  std::string file_, folder_;
  bool deterministic_ = false;
  std::optional<long long> max_params_, train_subset_, test_subset_;
  std::unique_ptr<ClassifyDataOnDevice> data_;
};

}  // namespace hpsearch
