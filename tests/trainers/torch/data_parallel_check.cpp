// Run under `mpirun -np 2` (ctest does): a 2-rank group trains one model data-parallel through
// the MPI communicator, and rank 0 trains a copy alone on the whole global batch. After every
// step the two ranks' parameters must be identical, and equal (within float tolerance) to the
// lone copy's: the proof that sharding + loss weighting + bucketed gradient averaging computes the
// gradient of the global batch. Exits 0 when all checks hold, 1 otherwise (with the reason).
#include <mpi.h>

#include <cstdio>

#include "comm/mpi_communicator.hpp"
#include "trainers/torch/nn/data_parallel.hpp"

using namespace hpsearch;

namespace {

torch::nn::Sequential make_model() {
  return torch::nn::Sequential(torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 4, 3)), torch::nn::ReLU(), torch::nn::Flatten(),
                               torch::nn::Linear(4 * 6 * 6, 8), torch::nn::Tanh(), torch::nn::Linear(8, 2));
}

torch::Tensor flat_parameters(torch::nn::Module& model) {
  std::vector<torch::Tensor> parts;
  for (auto& p : model.parameters()) parts.push_back(p.detach().reshape({-1}));
  return torch::cat(parts);
}

int failures = 0;
void expect(bool ok, const std::string& what) {
  if (!ok) {
    std::fprintf(stderr, "data_parallel_check: FAILED: %s\n", what.c_str());
    ++failures;
  }
}

// Trains `steps` steps of `optimizer_kind` with global batches of `global_batch` rows.
void check(nn::DataParallel& parallel, const std::string& optimizer_kind, int64_t global_batch, double bucket_bytes) {
  torch::manual_seed(100 + parallel.rank());  // different initial weights per rank on purpose
  auto model = make_model();
  parallel.broadcast_module(*model, static_cast<int64_t>(bucket_bytes));
  parallel.attach(*model, static_cast<int64_t>(bucket_bytes));
  auto lone = make_model();
  {
    torch::NoGradGuard no_grad;
    auto from = model->parameters();
    auto to = lone->parameters();
    for (std::size_t i = 0; i < from.size(); ++i) to[i].copy_(from[i]);
  }
  auto make_optimizer = [&](torch::nn::Module& m) -> std::unique_ptr<torch::optim::Optimizer> {
    if (optimizer_kind == "adam") return std::make_unique<torch::optim::Adam>(m.parameters(), torch::optim::AdamOptions(1e-2));
    return std::make_unique<torch::optim::SGD>(m.parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  };
  auto optimizer = make_optimizer(*model);
  auto lone_optimizer = make_optimizer(*lone);

  torch::manual_seed(7);  // the same data on both ranks
  const auto inputs = torch::randn({global_batch * 4, 1, 8, 8});
  const auto targets = torch::randn({global_batch * 4, 2});
  for (int step = 0; step < 4; ++step) {
    const auto batch = torch::arange(step * global_batch, (step + 1) * global_batch);
    const auto mine = parallel.shard(batch);
    optimizer->zero_grad();
    auto loss = torch::mse_loss(model->forward(inputs.index_select(0, mine)), targets.index_select(0, mine));
    parallel.weighted_loss(loss, mine.size(0), batch.size(0)).backward();
    parallel.average_gradients();
    optimizer->step();
    // With small buckets the first all-reduce starts while backward still computes the earlier
    // layers' gradients; every bucket starts from a gradient hook, in backward.
    const auto stats = parallel.last_averaging();
    expect(stats.started_in_backward == stats.buckets, "only " + std::to_string(stats.started_in_backward) + " of " +
                                                           std::to_string(stats.buckets) + " buckets started during backward");
    if (bucket_bytes < 1024) {
      expect(stats.buckets > 2 && stats.gradients_after_first_start > 0, "no overlap: " + std::to_string(stats.buckets) + " buckets, " +
                                                                             std::to_string(stats.gradients_after_first_start) +
                                                                             " gradients computed after the first all-reduce started");
    }

    lone_optimizer->zero_grad();
    torch::mse_loss(lone->forward(inputs.index_select(0, batch)), targets.index_select(0, batch)).backward();
    lone_optimizer->step();

    const auto mine_flat = flat_parameters(*model);
    auto leaders = mine_flat.clone();
    parallel.group()->broadcast(leaders, 0);
    const std::string where = optimizer_kind + ", global batch " + std::to_string(global_batch) + ", step " + std::to_string(step + 1);
    expect(torch::equal(mine_flat, leaders),
           "rank " + std::to_string(parallel.rank()) + " parameters differ from rank 0's (" + where + ")");
    const double gap = (mine_flat - flat_parameters(*lone)).abs().max().item<double>();
    expect(gap < 1e-5, "group vs one rank on the whole batch: max difference " + std::to_string(gap) + " (" + where + ")");
  }
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  {
    MpiCommunicator communicator(MPI_COMM_WORLD);
    nn::DataParallel parallel(&communicator);
    if (parallel.size() != 2) {
      std::fprintf(stderr, "data_parallel_check: run me with mpirun -np 2\n");
      MPI_Finalize();
      return 1;
    }
    for (const char* optimizer : {"sgd", "adam"}) {
      check(parallel, optimizer, 32, 25 << 20);  // even shards, one bucket
      check(parallel, optimizer, 33, 64);        // uneven shards (17 + 16 rows), three small buckets
    }
    int all = 0;
    MPI_Allreduce(&failures, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (parallel.rank() == 0) std::printf("data_parallel_check: %s (%d failed checks)\n", all == 0 ? "ok" : "FAILED", all);
    failures = all;
  }
  MPI_Finalize();
  return failures == 0 ? 0 : 1;
}
