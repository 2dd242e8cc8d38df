// For each trainer's default model: the compute time of one training step (forward, backward,
// optimizer step at the trainer's batch size) against the time to average its gradients across
// the trial's group (nn::DataParallel: bucketed all-reduce) on its own, and the time of the whole
// step in the group, where the all-reduce of each bucket starts during backward: the difference
// with the lone step is the communication the backward pass did not hide.
// Run under mpirun with one rank per GPU: `mpirun -np G bench/allreduce_vs_compute`; NCCL on CUDA
// (when built with NCCL), MPI on the CPU otherwise. With one rank the all-reduce is NCCL's (or
// MPI's) fixed cost on a single device, not a network figure: the README's scaling note gives
// those on paper. Prints one JSON line per model from rank 0.
#include <mpi.h>

#include <chrono>
#include <cstdio>

#include "comm/mpi_communicator.hpp"
#include "comm/nccl_communicator.hpp"
#include "trainers/torch/nn/compute_device.hpp"
#include "trainers/torch/nn/data_parallel.hpp"
#include "trainers/torch/nn/model_builder.hpp"

using namespace hpsearch;
using nlohmann::json;

namespace {

struct Workload {
  const char* trainer;
  json architecture;
  std::vector<int64_t> input_shape;
  int64_t outputs;
  int64_t batch_size;
};

std::vector<Workload> workloads() {
  // The seed's best detector and forecaster (seed 000), and seed 003's CIFAR-10 network.
  const json detect = {
      {"act_fn", "relu"},
      {"batch_norm", {{"eps", 1e-5}, {"momentum", 0.0736}, {"affine", true}}},
      {"dropout_prob", 0.0},
      {"layers_param", json::array({json::array({"conv2d", {{"out_channels", 4}, {"kernel_size", 3}}}),
                                    json::array({"conv2d", {{"out_channels", 4}, {"kernel_size", 3}}}),
                                    json::array({"conv2d", {{"out_channels", 4}, {"kernel_size", 3}}}),
                                    json::array({"avg_pooling", {{"kernel_size", 2}, {"stride", 2}}}),
                                    json::array({"conv2d", {{"out_channels", 16}, {"kernel_size", 5}}}),
                                    json::array({"conv2d", {{"out_channels", 16}, {"kernel_size", 5}}}),
                                    json::array({"avg_pooling", {{"kernel_size", 2}, {"stride", 2}}}),
                                    json::array({"conv2d", {{"out_channels", 32}, {"kernel_size", 5}, {"padding", 2}}}),
                                    json::array({"conv2d", {{"out_channels", 32}, {"kernel_size", 7}, {"padding", 3}}}),
                                    json::array({"avg_pooling", {{"kernel_size", 2}, {"stride", 2}}}),
                                    json::array({"conv2d", {{"out_channels", 64}, {"kernel_size", 5}, {"padding", 2}}}),
                                    json::array({"flatten", json::object()}), json::array({"fully_connected", json::object()})})}};
  const json forecast = {
      {"act_fn", "tanh"},
      {"dropout_prob", 0.45},
      {"layers_param",
       json::array({json::array({"fully_connected", {{"out_features", 512}}}), json::array({"fully_connected", {{"out_features", 256}}}),
                    json::array({"fully_connected", {{"out_features", 128}}}), json::array({"fully_connected", {{"out_features", 128}}}),
                    json::array({"fully_connected", json::object()})})}};
  const json classify = {
      {"act_fn", "relu"},
      {"layers_param",
       json::array({json::array({"conv2d", {{"out_channels", 32}, {"kernel_size", 5}, {"padding", 2}}}),
                    json::array({"max_pooling", {{"kernel_size", 2}, {"stride", 2}}}),
                    json::array({"conv2d", {{"out_channels", 64}, {"kernel_size", 5}, {"padding", 2}}}),
                    json::array({"max_pooling", {{"kernel_size", 2}, {"stride", 2}}}),
                    json::array({"conv2d", {{"out_channels", 64}, {"kernel_size", 5}, {"padding", 2}}}),
                    json::array({"max_pooling", {{"kernel_size", 2}, {"stride", 2}}}), json::array({"flatten", json::object()}),
                    json::array({"fully_connected", {{"out_features", 1000}}}), json::array({"fully_connected", json::object()})})}};
  return {{"detect", detect, {3, 100, 100}, 45, 16}, {"forecast", forecast, {237}, 12, 16}, {"classify", classify, {3, 32, 32}, 10, 128}};
}

void synchronize(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize();
}

template <typename Step>
double seconds_per_call(const torch::Device& device, int repeats, Step step) {
  for (int i = 0; i < 5; ++i) step();  // warm-up: cuDNN autotuning, allocator, NCCL channels
  synchronize(device);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < repeats; ++i) step();
  synchronize(device);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / repeats;
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  {
    const torch::Device device = nn::compute_device();
    nn::configure_backends(false);
    std::unique_ptr<Communicator> communicator;
    if (device.is_cuda()) communicator = make_nccl_communicator(MPI_COMM_WORLD, device.index());
    if (!communicator) communicator = std::make_unique<MpiCommunicator>(MPI_COMM_WORLD);
    for (const auto& w : workloads()) {
      auto model = nn::build_model(nn::parse_architecture(w.architecture), w.input_shape, w.outputs);
      model->to(device);
      torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(1e-4));
      std::vector<int64_t> batch_shape{w.batch_size};
      batch_shape.insert(batch_shape.end(), w.input_shape.begin(), w.input_shape.end());
      const auto inputs = torch::randn(batch_shape, torch::TensorOptions().device(device));
      const auto targets = torch::randn({w.batch_size, w.outputs}, torch::TensorOptions().device(device));
      const double compute_s = seconds_per_call(device, 50, [&] {
        optimizer.zero_grad();
        torch::mse_loss(model->forward(inputs), targets).backward();
        optimizer.step();
      });
      // The same step in the trial's group (a group of `size`, at least 2 so that a run of one
      // rank still communicates), twice: with one bucket for the whole model, whose all-reduce can
      // only start once backward is over (the reference), and with attach()'s default buckets,
      // each started from backward's gradient hooks as soon as it is complete.
      int64_t gradient_bytes = 0;
      for (auto& p : model->parameters()) gradient_bytes += p.numel() * static_cast<int64_t>(p.element_size());
      struct WorldGroup : Communicator {
        Communicator& inner;
        explicit WorldGroup(Communicator& c) : inner(c) {}
        int rank() const override { return inner.rank(); }
        int size() const override { return std::max(2, inner.size()); }
        std::string name() const override { return inner.name(); }
        void all_reduce_sum(torch::Tensor& t) override { inner.all_reduce_sum(t); }
        std::unique_ptr<PendingCollective> start_all_reduce_sum(torch::Tensor& t) override { return inner.start_all_reduce_sum(t); }
        void broadcast(torch::Tensor& t, int root) override { inner.broadcast(t, root); }
        void barrier() override { inner.barrier(); }
      } group(*communicator);
      struct GroupStep {
        double step_s, averaging_alone_s;
        nn::GradientAveragingStats stats;
      };
      auto group_step = [&](int64_t bucket_bytes) {
        auto replica = nn::build_model(nn::parse_architecture(w.architecture), w.input_shape, w.outputs);
        replica->to(device);
        torch::optim::Adam replica_optimizer(replica->parameters(), torch::optim::AdamOptions(1e-4));
        nn::DataParallel parallel(&group);
        parallel.attach(*replica, bucket_bytes);
        GroupStep result{};
        result.step_s = seconds_per_call(device, 50, [&] {
          replica_optimizer.zero_grad();
          torch::mse_loss(replica->forward(inputs), targets).backward();
          parallel.average_gradients();
          replica_optimizer.step();
        });
        result.stats = parallel.last_averaging();
        // The averaging alone, with no backward to hide behind: every bucket started at once.
        result.averaging_alone_s = seconds_per_call(device, 50, [&] { parallel.average_gradients(); });
        return result;
      };
      const GroupStep after_backward = group_step(2 * gradient_bytes);
      const GroupStep overlapped = group_step(nn::kGradientBucketBytes);
      auto exposed_ms = [&](const GroupStep& g) { return std::max(0.0, g.step_s - compute_s) * 1e3; };
      if (rank == 0) {
        std::printf("%s\n", json{{"trainer", w.trainer},
                                 {"device", device.str()},
                                 {"communicator", communicator->name()},
                                 {"ranks", size},
                                 {"batch_size", w.batch_size},
                                 {"gradient_bytes", gradient_bytes},
                                 {"compute_ms_per_step", compute_s * 1e3},
                                 {"allreduce_ms_per_step", overlapped.averaging_alone_s * 1e3},
                                 {"allreduce_over_compute", overlapped.averaging_alone_s / compute_s},
                                 {"one_bucket_step_ms", after_backward.step_s * 1e3},
                                 {"one_bucket_exposed_ms", exposed_ms(after_backward)},
                                 {"group_step_ms", overlapped.step_s * 1e3},
                                 {"exposed_allreduce_ms", exposed_ms(overlapped)},
                                 {"step_speedup_over_one_bucket", after_backward.step_s / overlapped.step_s},
                                 {"buckets", overlapped.stats.buckets},
                                 {"buckets_started_in_backward", overlapped.stats.started_in_backward},
                                 {"gradients_after_first_start", overlapped.stats.gradients_after_first_start}}
                                .dump()
                                .c_str());
      }
    }
  }
  MPI_Finalize();
  return 0;
}
