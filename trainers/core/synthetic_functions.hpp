#pragma once
// Standard test functions for optimisers, with their known optima. Torch-free: used by the
// synthetic trainer, the sampler benchmarks and the tests.
#include <string>
#include <vector>

namespace hpsearch::synthetic {

// Branin on x1 in [-5, 10], x2 in [0, 15]; minimum 0.397887 at three points.
double branin(double x1, double x2);
constexpr double kBraninMinimum = 0.39788735772973816;

// Hartmann 6-D on [0, 1]^6; minimum -3.32237 at (0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573).
double hartmann6(const std::vector<double>& x);
constexpr double kHartmann6Minimum = -3.3223680114155147;

// Rosenbrock in n dimensions; minimum 0 at (1, ..., 1). Usually searched on [-5, 10]^n.
double rosenbrock(const std::vector<double>& x);

// A learning curve: the loss after `step` steps (1-based) of a model whose hyperparameters are
// x1 in [-5, 10], x2 in [0, 15]. It converges to branin(x1, x2) at a speed that depends on x2, so
// curves cross: a configuration that starts slow may end best. Noise-free; the trainer adds noise.
double learning_curve(double x1, double x2, int step);

// Number of inputs each function reads from the configuration (x1 .. xN); 0 = any number >= 2.
int input_count(const std::string& function);

}  // namespace hpsearch::synthetic
