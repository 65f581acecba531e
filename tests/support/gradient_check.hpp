#pragma once
// Central-difference gradient check (mlpack's relative error ||g - n|| / ||g + n||).
#include <Eigen/Core>

namespace ternbench::testing {

// loss() must evaluate the scalar loss at the current theta, in double precision where the
// layer allows; theta is perturbed in place and restored.
template <class LossFn>
double relative_gradient_error(LossFn&& loss, Eigen::MatrixXf& theta, const Eigen::MatrixXf& analytic,
                               float eps = 1e-2f) {
  Eigen::MatrixXd numeric(theta.rows(), theta.cols());
  for (Eigen::Index i = 0; i < theta.size(); ++i) {
    const float saved = theta(i);
    theta(i) = saved + eps;
    const double up = loss();
    theta(i) = saved - eps;
    const double down = loss();
    theta(i) = saved;
    numeric(i) = (up - down) / (2.0 * static_cast<double>(eps));
  }
  const Eigen::MatrixXd a = analytic.cast<double>();
  const double denom = (a + numeric).norm();
  return denom == 0.0 ? 0.0 : (a - numeric).norm() / denom;
}

}  // namespace ternbench::testing
