#pragma once
// The statistics the examples report: Pearson and Spearman correlation (STS evaluation),
// k-means with k-means++ seeding, PCA to 2-D, and the agreement of a clustering with labels
// (normalised mutual information, purity). Each is the textbook definition; tests/test_examples.cpp
// checks them against scipy and scikit-learn on fixed data.
#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <vector>

namespace micse::stats {

inline double pearson(const std::vector<double>& x, const std::vector<double>& y) {
    const double n = double(x.size());
    const double mx = std::accumulate(x.begin(), x.end(), 0.0) / n, my = std::accumulate(y.begin(), y.end(), 0.0) / n;
    double sxy = 0, sxx = 0, syy = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
    }
    return sxx > 0 && syy > 0 ? sxy / std::sqrt(sxx * syy) : 0.0;
}

// Ranks from 1, ties sharing their average rank (as scipy.stats.rankdata's default).
inline std::vector<double> ranks(const std::vector<double>& v) {
    std::vector<std::size_t> order(v.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return v[a] < v[b]; });
    std::vector<double> r(v.size());
    for (std::size_t i = 0; i < order.size();) {
        std::size_t j = i;
        while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
        const double avg = (double(i) + double(j)) / 2.0 + 1.0;
        for (std::size_t k = i; k <= j; ++k) r[order[k]] = avg;
        i = j + 1;
    }
    return r;
}

inline double spearman(const std::vector<double>& x, const std::vector<double>& y) { return pearson(ranks(x), ranks(y)); }

struct KMeansResult {
    std::vector<int> assignment;
    Eigen::MatrixXd centroids;  // [k, dim]
    double inertia = 0;         // sum of squared distances to the assigned centroid
};

// Lloyd's algorithm from k-means++ seeds (Arthur & Vassilvitskii 2007), best of `restarts`.
inline KMeansResult kmeans(const Eigen::MatrixXd& x, int k, unsigned seed = 0, int restarts = 10, int max_iter = 300) {
    const Eigen::Index n = x.rows();
    std::mt19937 rng(seed);
    KMeansResult best;
    best.inertia = std::numeric_limits<double>::infinity();
    for (int r = 0; r < restarts; ++r) {
        Eigen::MatrixXd c(k, x.cols());
        c.row(0) = x.row(Eigen::Index(rng() % std::uint64_t(n)));
        Eigen::VectorXd d2 = (x.rowwise() - c.row(0)).rowwise().squaredNorm();
        for (int j = 1; j < k; ++j) {
            std::discrete_distribution<Eigen::Index> pick(d2.data(), d2.data() + n);
            c.row(j) = x.row(d2.sum() > 0 ? pick(rng) : Eigen::Index(rng() % std::uint64_t(n)));
            d2 = d2.cwiseMin((x.rowwise() - c.row(j)).rowwise().squaredNorm());
        }
        std::vector<int> a(std::size_t(n), -1);
        double inertia = 0;
        for (int it = 0; it < max_iter; ++it) {
            bool changed = false;
            inertia = 0;
            for (Eigen::Index i = 0; i < n; ++i) {
                Eigen::Index j;
                inertia += (c.rowwise() - x.row(i)).rowwise().squaredNorm().minCoeff(&j);
                if (a[std::size_t(i)] != int(j)) a[std::size_t(i)] = int(j), changed = true;
            }
            if (!changed) break;
            Eigen::MatrixXd sum = Eigen::MatrixXd::Zero(k, x.cols());
            Eigen::VectorXd count = Eigen::VectorXd::Zero(k);
            for (Eigen::Index i = 0; i < n; ++i) sum.row(a[std::size_t(i)]) += x.row(i), count(a[std::size_t(i)]) += 1;
            for (int j = 0; j < k; ++j)
                if (count(j) > 0) c.row(j) = sum.row(j) / count(j);
        }
        if (inertia < best.inertia) best = {a, c, inertia};
    }
    return best;
}

// Rows projected on the two principal axes of the centred data: [n, 2].
inline Eigen::MatrixXd pca2(const Eigen::MatrixXd& x) {
    const Eigen::MatrixXd centred = x.rowwise() - x.colwise().mean();
    const Eigen::MatrixXd cov = centred.transpose() * centred / std::max<double>(1.0, double(x.rows() - 1));
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(cov);
    const Eigen::Index d = x.cols();
    Eigen::MatrixXd axes(d, 2);
    axes.col(0) = eig.eigenvectors().col(d - 1);  // eigenvalues come in increasing order
    axes.col(1) = eig.eigenvectors().col(d - 2);
    return centred * axes;
}

// Mutual information of two labelings over its arithmetic-mean normalisation (scikit-learn's
// normalized_mutual_info_score default); 1 when both have a single class.
inline double nmi(const std::vector<int>& a, const std::vector<int>& b) {
    const double n = double(a.size());
    std::map<int, double> pa, pb;
    std::map<std::pair<int, int>, double> pab;
    for (std::size_t i = 0; i < a.size(); ++i) pa[a[i]] += 1, pb[b[i]] += 1, pab[{a[i], b[i]}] += 1;
    double mi = 0, ha = 0, hb = 0;
    for (const auto& [ij, c] : pab) mi += c / n * std::log(c * n / (pa[ij.first] * pb[ij.second]));
    for (const auto& [i, c] : pa) ha -= c / n * std::log(c / n);
    for (const auto& [j, c] : pb) hb -= c / n * std::log(c / n);
    if (ha == 0 && hb == 0) return 1.0;
    const double denom = (ha + hb) / 2;
    return denom > 0 ? std::max(0.0, mi / denom) : 0.0;
}

// Share of items whose cluster's most common label is their own label.
inline double purity(const std::vector<int>& clusters, const std::vector<int>& labels) {
    std::map<int, std::map<int, int>> table;
    for (std::size_t i = 0; i < clusters.size(); ++i) ++table[clusters[i]][labels[i]];
    int right = 0;
    for (const auto& [c, row] : table) {
        int most = 0;
        for (const auto& [l, count] : row) most = std::max(most, count);
        right += most;
    }
    return clusters.empty() ? 0.0 : double(right) / double(clusters.size());
}

}  // namespace micse::stats
