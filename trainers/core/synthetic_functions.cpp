#include "trainers/core/synthetic_functions.hpp"

#include <cmath>

namespace hpsearch::synthetic {

double branin(double x1, double x2) {
  constexpr double pi = 3.14159265358979323846;
  const double a = 1, b = 5.1 / (4 * pi * pi), c = 5 / pi, r = 6, s = 10, t = 1 / (8 * pi);
  const double u = x2 - b * x1 * x1 + c * x1 - r;
  return a * u * u + s * (1 - t) * std::cos(x1) + s;
}

double hartmann6(const std::vector<double>& x) {
  static const double alpha[4] = {1.0, 1.2, 3.0, 3.2};
  static const double A[4][6] = {
      {10, 3, 17, 3.5, 1.7, 8}, {0.05, 10, 17, 0.1, 8, 14}, {3, 3.5, 1.7, 10, 17, 8}, {17, 8, 0.05, 10, 0.1, 14}};
  static const double P[4][6] = {{0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886},
                                 {0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991},
                                 {0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650},
                                 {0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381}};
  double sum = 0;
  for (int i = 0; i < 4; ++i) {
    double inner = 0;
    for (int j = 0; j < 6; ++j) inner += A[i][j] * (x[j] - P[i][j]) * (x[j] - P[i][j]);
    sum += alpha[i] * std::exp(-inner);
  }
  return -sum;
}

double rosenbrock(const std::vector<double>& x) {
  double sum = 0;
  for (std::size_t i = 0; i + 1 < x.size(); ++i) {
    sum += 100 * (x[i + 1] - x[i] * x[i]) * (x[i + 1] - x[i] * x[i]) + (1 - x[i]) * (1 - x[i]);
  }
  return sum;
}

double learning_curve(double x1, double x2, int step) {
  const double final_loss = branin(x1, x2);
  const double tau = 3.0 + 12.0 * x2 / 15.0;  // large x2 learns slowly
  const double start = final_loss + 60.0;
  return final_loss + (start - final_loss) * std::exp(-static_cast<double>(step) / tau);
}

int input_count(const std::string& function) {
  if (function == "branin" || function == "learning_curve") return 2;
  if (function == "hartmann6") return 6;
  if (function == "rosenbrock") return 0;
  return -1;
}

}  // namespace hpsearch::synthetic
