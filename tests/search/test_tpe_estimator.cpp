// The Parzen estimator behind TPE: densities are normalised on their domains, sampling follows
// the density, discrete and categorical masses sum to 1; and the normal helpers are accurate.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <vector>

#include "search/random.hpp"
#include "search/samplers/random_sampler.hpp"
#include "search/samplers/tpe/parzen_estimator.hpp"
#include "search/samplers/tpe/truncated_normal.hpp"
#include "search/space.hpp"

namespace hpsearch::tpe {
namespace {

using nlohmann::json;

Parameter parameter_of(const std::string& distribution) {
  SearchSpace space = SearchSpace::parse(json{{"p", json::parse(distribution)}}, "test.json");
  return space.parameters().at(0);
}

// Numerical integral of exp(log_density) over [low, high] for a 1-D estimator (midpoint rule).
double integrate_1d(const ParzenEstimator& estimator, double low, double high, int steps = 20000) {
  std::vector<double> points(static_cast<std::size_t>(steps)), logs(points.size());
  const double h = (high - low) / steps;
  for (int k = 0; k < steps; ++k) points[static_cast<std::size_t>(k)] = low + (k + 0.5) * h;
  estimator.log_density(points.data(), points.size(), logs.data());
  double sum = 0;
  for (double l : logs) sum += std::exp(l) * h;
  return sum;
}

EstimatorOptions neighbors() {
  EstimatorOptions options;
  options.multivariate_bandwidth = false;
  return options;
}

TEST(TpeNormalHelpers, LogMassMatchesDirectFormulaAndStaysFiniteInTails) {
  for (double a : {-3.0, -1.0, 0.0, 0.5, 2.0}) {
    for (double width : {0.01, 0.5, 3.0}) {
      const double b = a + width;
      EXPECT_NEAR(std::exp(log_normal_mass(a, b)), normal_cdf(b) - normal_cdf(a), 1e-12) << a << " " << b;
    }
  }
  // Far tails: the difference of CDFs is 0 in doubles, the log-mass must still be finite and
  // decreasing with the distance.
  const double far = log_normal_mass(40, 41), farther = log_normal_mass(45, 46);
  EXPECT_TRUE(std::isfinite(far));
  EXPECT_LT(farther, far);
  EXPECT_NEAR(log_normal_mass(-41, -40), far, 1e-9);  // symmetric
  EXPECT_NEAR(std::exp(log_normal_mass(-INFINITY, INFINITY)), 1.0, 1e-15);
}

TEST(TpeNormalHelpers, FastExpIsAccurate) {
  for (double x = -700; x <= 0; x += 0.37) {
    EXPECT_NEAR(exp_nonpositive(x) / std::exp(x), 1.0, 1e-12) << x;
  }
  EXPECT_EQ(exp_nonpositive(0.0), 1.0);
  EXPECT_LT(exp_nonpositive(-1e300), 1e-300);
  EXPECT_LT(exp_nonpositive(-800), 1e-300);
}

TEST(TpeNormalHelpers, TruncatedSamplesStayInBoundsWithTheRightMean) {
  Rng rng(1);
  double sum = 0;
  const int n = 100000;
  for (int i = 0; i < n; ++i) {
    const double x = sample_truncated_normal(rng, 0.0, 1.0, 0.0, 5.0);
    ASSERT_GE(x, 0.0);
    ASSERT_LE(x, 5.0);
    sum += x;
  }
  EXPECT_NEAR(sum / n, std::sqrt(2 / M_PI), 0.01);  // half-normal mean
  // A narrow interval far in a tail: still inside.
  for (int i = 0; i < 1000; ++i) {
    const double x = sample_truncated_normal(rng, 0.0, 1.0, 6.0, 6.1);
    ASSERT_GE(x, 6.0);
    ASSERT_LE(x, 6.1);
  }
}

TEST(TpeEstimator, ContinuousDensitiesIntegrateToOne) {
  for (const char* distribution : {R"({"$uniform": [-5, 10]})", R"({"$loguniform": [1e-4, 10]})"}) {
    const ModelDim dim = ModelDim::of(parameter_of(distribution));
    const std::vector<double> observations = {dim.low, dim.low + 0.1 * dim.width, dim.low + 0.12 * dim.width, dim.high};
    for (bool multivariate : {false, true}) {
      EstimatorOptions options;
      options.multivariate_bandwidth = multivariate;
      const ParzenEstimator estimator({&dim}, observations, {1, 0.5, 1, 2}, options);
      EXPECT_EQ(estimator.kernels(), 5u);
      EXPECT_NEAR(integrate_1d(estimator, dim.low, dim.high), 1.0, 1e-6) << distribution;
    }
  }
  // Unbounded: kernels are not truncated, the prior kernel is the distribution itself.
  const ModelDim normal = ModelDim::of(parameter_of(R"({"$normal": [2, 3]})"));
  EXPECT_FALSE(normal.bounded);
  const ParzenEstimator estimator({&normal}, {-1.0, 2.5, 9.0}, {1, 1, 1}, neighbors());
  EXPECT_EQ(estimator.kernel_mu(0, 3), 2.0);
  EXPECT_EQ(estimator.kernel_sigma(0, 3), 3.0);
  EXPECT_NEAR(integrate_1d(estimator, -60, 60, 100000), 1.0, 1e-6);
  // lognormal: modelled on the log scale with the prior N(mu, sigma) there.
  const ModelDim lognormal = ModelDim::of(parameter_of(R"({"$lognormal": [0, 1]})"));
  EXPECT_TRUE(lognormal.log_scale);
  EXPECT_NEAR(lognormal.to_point(std::exp(1.5)), 1.5, 1e-12);
}

TEST(TpeEstimator, JointDensityIntegratesToOneIn2D) {
  const ModelDim x = ModelDim::of(parameter_of(R"({"$uniform": [0, 1]})"));
  const ModelDim y = ModelDim::of(parameter_of(R"({"$loguniform": [1, 100]})"));
  const std::vector<double> observations = {0.1, std::log(2.0), 0.9, std::log(50.0), 0.5, std::log(10.0)};
  const ParzenEstimator estimator({&x, &y}, observations, {1, 1, 1}, EstimatorOptions{});
  const int steps = 400;
  std::vector<double> points;
  for (int i = 0; i < steps; ++i) {
    for (int j = 0; j < steps; ++j) {
      points.push_back(x.low + (i + 0.5) * x.width / steps);
      points.push_back(y.low + (j + 0.5) * y.width / steps);
    }
  }
  std::vector<double> logs(points.size() / 2);
  estimator.log_density(points.data(), logs.size(), logs.data());
  double sum = 0;
  for (double l : logs) sum += std::exp(l) * (x.width / steps) * (y.width / steps);
  EXPECT_NEAR(sum, 1.0, 1e-4);
}

TEST(TpeEstimator, DiscreteAndCategoricalMassesSumToOne) {
  for (const char* distribution : {R"({"$quniform": [0, 1, 0.15]})", R"({"$qloguniform": [1, 100, 3]})", R"({"$randint": [-3, 4]})",
                                   R"({"$choice": ["a", "b", "c", "d"]})"}) {
    const Parameter p = parameter_of(distribution);
    const ModelDim dim = ModelDim::of(p);
    const std::size_t count = dim.kind == ModelDim::Kind::Categorical ? dim.num_choices : dim.num_cells;
    ASSERT_GE(count, 4u) << distribution;
    const std::vector<double> observations = {0.0, 1.0, static_cast<double>(count - 1)};
    for (bool multivariate : {false, true}) {
      EstimatorOptions options;
      options.multivariate_bandwidth = multivariate;
      const ParzenEstimator estimator({&dim}, observations, {1, 1, 3}, options);
      std::vector<double> points, logs(count);
      for (std::size_t k = 0; k < count; ++k) points.push_back(static_cast<double>(k));
      estimator.log_density(points.data(), count, logs.data());
      double sum = 0;
      for (double l : logs) sum += std::exp(l);
      EXPECT_NEAR(sum, 1.0, 1e-9) << distribution;
      // The most weighted observation is the most likely option.
      if (dim.kind == ModelDim::Kind::Categorical) {
        EXPECT_EQ(std::max_element(logs.begin(), logs.end()) - logs.begin(), static_cast<std::ptrdiff_t>(count - 1));
      }
    }
  }
}

TEST(TpeEstimator, GridPointsMapToTheirCells) {
  const Parameter p = parameter_of(R"({"$qloguniform": [1, 100, 3]})");
  const ModelDim dim = ModelDim::of(p);
  EXPECT_EQ(dim.num_cells, 34u);  // 1, 4, ..., 100
  for (std::size_t k = 0; k < dim.num_cells; ++k) {
    const double value = dim.from_point(static_cast<double>(k));
    EXPECT_EQ(p.snap(value), value);
    EXPECT_EQ(dim.to_point(value), static_cast<double>(k));
    EXPECT_LT(dim.cell_lower(k), dim.cell_centre(k));
    EXPECT_GT(dim.cell_upper(k), dim.cell_centre(k));
    if (k > 0) {
      EXPECT_EQ(dim.cell_lower(k), dim.cell_upper(k - 1));
    }
    EXPECT_EQ(dim.cell_of(dim.cell_centre(k)), k);
  }
  EXPECT_EQ(dim.cell_lower(0), dim.low);
  EXPECT_EQ(dim.cell_upper(dim.num_cells - 1), dim.high);
}

TEST(TpeEstimator, MixedJointMassIsNormalised) {
  const ModelDim x = ModelDim::of(parameter_of(R"({"$uniform": [0, 2]})"));
  const ModelDim n = ModelDim::of(parameter_of(R"({"$randint": [0, 5]})"));
  const ModelDim c = ModelDim::of(parameter_of(R"({"$choice": [1, 2, 3]})"));
  const std::vector<double> observations = {0.2, 1, 0, 1.5, 4, 2, 1.6, 3, 2};
  const ParzenEstimator estimator({&x, &n, &c}, observations, {1, 1, 1}, EstimatorOptions{});
  const int steps = 2000;
  std::vector<double> points;
  for (int i = 0; i < steps; ++i)
    for (int k = 0; k < 5; ++k)
      for (int j = 0; j < 3; ++j) points.insert(points.end(), {(i + 0.5) * 2.0 / steps, double(k), double(j)});
  std::vector<double> logs(points.size() / 3);
  estimator.log_density(points.data(), logs.size(), logs.data());
  double sum = 0;
  for (double l : logs) sum += std::exp(l) * 2.0 / steps;
  EXPECT_NEAR(sum, 1.0, 1e-5);
}

// Chi-square-like check: the frequency of samples in each bin matches the density's mass there.
TEST(TpeEstimator, SamplingFollowsTheDensity) {
  Rng rng(7);
  const int draws = 200000;
  {  // continuous, truncated kernels near both ends
    const ModelDim dim = ModelDim::of(parameter_of(R"({"$uniform": [0, 10]})"));
    const ParzenEstimator estimator({&dim}, {0.3, 2.0, 2.5, 9.9}, {1, 2, 1, 1}, neighbors());
    std::vector<double> samples;
    estimator.sample(rng, draws, samples);
    const int bins = 20;
    std::vector<int> counts(bins, 0);
    for (double s : samples) {
      ASSERT_GE(s, 0.0);
      ASSERT_LE(s, 10.0);
      ++counts[std::min(bins - 1, static_cast<int>(s / 10 * bins))];
    }
    for (int b = 0; b < bins; ++b) {
      ParzenEstimator const& e = estimator;
      const double mass = integrate_1d(e, b * 10.0 / bins, (b + 1) * 10.0 / bins, 200);
      EXPECT_NEAR(counts[b] / double(draws), mass, 4 * std::sqrt(mass / draws) + 1e-4) << "bin " << b;
    }
  }
  {  // discrete on the log scale and categorical
    for (const char* distribution : {R"({"$qloguniform": [1, 30, 2]})", R"({"$choice": [0, 1, 2, 3, 4]})"}) {
      const ModelDim dim = ModelDim::of(parameter_of(distribution));
      const std::size_t count = dim.kind == ModelDim::Kind::Categorical ? dim.num_choices : dim.num_cells;
      const ParzenEstimator estimator({&dim}, {1.0, 3.0, 3.0}, {1, 1, 1}, neighbors());
      std::vector<double> samples;
      estimator.sample(rng, draws, samples);
      std::vector<int> counts(count, 0);
      for (double s : samples) ++counts.at(static_cast<std::size_t>(s));
      std::vector<double> points, logs(count);
      for (std::size_t k = 0; k < count; ++k) points.push_back(static_cast<double>(k));
      estimator.log_density(points.data(), count, logs.data());
      for (std::size_t k = 0; k < count; ++k) {
        const double mass = std::exp(logs[k]);
        EXPECT_NEAR(counts[k] / double(draws), mass, 4 * std::sqrt(mass / draws) + 1e-4) << distribution << " cell " << k;
      }
    }
  }
}

// Far-kernel pruning (EstimatorOptions::prune_far_kernels, on by default) promises the log
// density to within 1e-13 of the exhaustive sum over every kernel. Checked on every kind of
// dimension, spread-out and clustered observations, points drawn from a narrower model (as TPE's
// candidates are), from the estimator itself and at the domain's ends, and with both bandwidth
// rules; and the pruned scores are a pure function of the fit and the points.
TEST(TpeEstimator, PrunedLogDensityMatchesTheExhaustiveSum) {
  std::vector<Parameter> params;
  for (const char* d :
       {R"({"$uniform": [-5, 5]})", R"({"$loguniform": [1e-5, 1]})", R"({"$randint": [1, 65]})", R"({"$choice": ["a", "b", "c"]})",
        R"({"$normal": [0, 2]})", R"({"$quniform": [0, 10, 0.5]})", R"({"$qloguniform": [1, 1000, 5]})", R"({"$uniform": [0, 1]})"}) {
    params.push_back(parameter_of(d));
  }
  std::vector<ModelDim> model;
  for (const auto& p : params) model.push_back(ModelDim::of(p));
  std::vector<const ModelDim*> dims;
  for (const auto& m : model) dims.push_back(&m);
  const std::size_t D = dims.size();
  double worst = 0;
  std::size_t checked = 0;
  for (std::size_t kernels : {150, 1000, 5000}) {
    for (int clustered = 0; clustered < 2; ++clustered) {
      for (bool scott : {false, true}) {
        Rng rng(kernels * 10 + static_cast<std::size_t>(clustered) + (scott ? 5 : 0));
        std::vector<double> rows, weights;
        for (std::size_t i = 0; i < kernels; ++i) {
          for (std::size_t d = 0; d < D; ++d) {
            double v = sample_prior(params[d], rng);
            // Clustered: 80 % of the observations near a tenth of the domain's start.
            if (clustered && rng.uniform() < 0.8 && params[d].kind == DistributionKind::Uniform) {
              v = params[d].low + 0.1 * (v - params[d].low);
            }
            rows.push_back(model[d].to_point(v));
          }
          weights.push_back(0.05 + rng.uniform());
        }
        EstimatorOptions options = neighbors();
        options.multivariate_bandwidth = scott;
        EstimatorOptions exhaustive = options;
        exhaustive.prune_far_kernels = false;
        const ParzenEstimator pruned(dims, rows, weights, options), exact(dims, rows, weights, exhaustive);
        // Scott's bandwidths are too wide here for a window to leave kernels out: no pruning.
        if (!scott) {
          EXPECT_TRUE(pruned.prunes()) << kernels << " kernels, clustered " << clustered;
        }
        EXPECT_FALSE(exact.prunes());
        // Candidates: from a model of 20 observations (narrow kernels), from the estimator
        // itself, and points at the ends of the domain.
        const std::vector<double> few(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(20 * D));
        const ParzenEstimator good(dims, few, std::vector<double>(20, 1.0), neighbors());
        std::vector<double> points;
        good.sample(rng, 200, points);
        pruned.sample(rng, 200, points);
        for (int end = 0; end < 2; ++end) {
          for (std::size_t d = 0; d < D; ++d) {
            const ModelDim& m = model[d];
            double v = end ? m.high : m.low;
            if (m.kind == ModelDim::Kind::Discrete) v = end ? static_cast<double>(m.num_cells - 1) : 0.0;
            if (m.kind == ModelDim::Kind::Categorical) v = end ? 2.0 : 0.0;
            if (!m.bounded) v = end ? 8.0 : -8.0;
            points.push_back(v);
          }
        }
        const std::size_t n = points.size() / D;
        std::vector<double> a(n), b(n), again(n);
        pruned.log_density(points.data(), n, a.data());
        exact.log_density(points.data(), n, b.data());
        pruned.log_density(points.data(), n, again.data());
        for (std::size_t c = 0; c < n; ++c) {
          ASSERT_TRUE(std::isfinite(a[c]));
          ASSERT_EQ(a[c], again[c]);
          // 1e-13 from pruning, plus rounding of sums over thousands of terms in another order.
          ASSERT_NEAR(a[c], b[c], 1e-12 * std::max(1.0, std::fabs(b[c]))) << kernels << " kernels, point " << c;
          worst = std::max(worst, std::fabs(a[c] - b[c]));
          ++checked;
        }
      }
    }
  }
  EXPECT_EQ(checked, 3u * 2 * 2 * 402);
  std::printf("worst |pruned - exhaustive| log density: %.3g\n", worst);
}

TEST(TpeEstimator, BandwidthsFollowTheNeighbourRuleWithClipping) {
  const ModelDim dim = ModelDim::of(parameter_of(R"({"$uniform": [0, 100]})"));
  // Kernels at 10, 20, 50 and the prior at 50 (sigma 100): sigma of 20 = max(10, 30) = 30;
  // 10 is the first kernel (no endpoint): the gap to its right neighbour, 10.
  const ParzenEstimator estimator({&dim}, {10, 20, 50}, {1, 1, 1}, neighbors());
  EXPECT_DOUBLE_EQ(estimator.kernel_sigma(0, 0), 100.0 / 5);  // 10, clipped up to 100 / min(100, 4 + 1)
  EXPECT_DOUBLE_EQ(estimator.kernel_sigma(0, 1), 30.0);
  EXPECT_DOUBLE_EQ(estimator.kernel_sigma(0, 3), 100.0);  // the prior
  EXPECT_DOUBLE_EQ(estimator.kernel_mu(0, 3), 50.0);
  EXPECT_NEAR(estimator.kernel_weight(0) + estimator.kernel_weight(1) + estimator.kernel_weight(2) + estimator.kernel_weight(3), 1.0,
              1e-12);
}

}  // namespace
}  // namespace hpsearch::tpe
