#include "ternbench/reports/chart.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <limits>

#include "ternbench/reports/escape.hpp"

namespace ternbench::reports {
namespace {

constexpr const char* kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                    "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"};
constexpr int kLeft = 62, kRight = 170, kTop = 34, kBottom = 48;  // plot margins (px)

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string shorten(const std::string& s, std::size_t n) {
  return s.size() <= n ? s : s.substr(0, n - 1) + "~";
}

struct Axis {
  double lo = 0, hi = 1;
  std::vector<double> ticks;   // in axis units (log2 of the value for a log axis)
  std::vector<std::string> labels;
};

// Pads the data range by 5% (a factor 1.2 on a log axis) so that no point sits on the frame.
Axis make_axis(double lo, double hi, bool log2) {
  Axis a;
  if (log2) {
    lo /= 1.2;
    hi *= 1.2;
    const double l = std::floor(std::log2(lo)), h = std::ceil(std::log2(hi));
    a.lo = l;
    a.hi = h > l ? h : l + 1;
    for (double e = a.lo; e <= a.hi + 1e-9; e += 1) {
      a.ticks.push_back(e);
      a.labels.push_back(tick_label(std::exp2(e)));
    }
    return a;
  }
  const double pad = 0.05 * (hi - lo);
  // Non-negative data (sparsity, accuracy) keeps a non-negative axis.
  a.ticks = nice_ticks(lo >= 0 && lo - pad < 0 ? 0.0 : lo - pad, hi + pad);
  a.lo = a.ticks.front();
  a.hi = a.ticks.back();
  for (double t : a.ticks) a.labels.push_back(tick_label(t));
  return a;
}

}  // namespace

bool Chart::empty() const {
  for (const auto& s : series)
    if (!s.points.empty()) return false;
  return true;
}

std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!(hi > lo)) {
    const double pad = lo == 0 ? 1 : std::fabs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const double raw = (hi - lo) / std::max(1, target);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double frac = raw / mag;
  const double step = (frac <= 1 ? 1 : frac <= 2 ? 2 : frac <= 5 ? 5 : 10) * mag;
  std::vector<double> t;
  const double first = std::floor(lo / step + 1e-9) * step;
  for (int i = 0; i < 100; ++i) {  // multiples, not sums: no drift across ticks
    const double v = first + i * step;
    t.push_back(std::fabs(v) < step * 1e-9 ? 0.0 : v);  // no "-0"
    if (v >= hi - step * 1e-9) break;
  }
  if (t.size() < 2) t.push_back(t.back() + step);
  return t;
}

std::string tick_label(double v) {
  // Fixed notation with the fewest decimals that give the value back: "90", "0.6", "0.25".
  char buf[64];
  for (int decimals = 0; decimals <= 12; ++decimals) {
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    if (std::fabs(std::strtod(buf, nullptr) - v) <= std::fabs(v) * 1e-9) break;
  }
  return buf;
}

std::vector<ChartPoint> pareto_front(std::vector<ChartPoint> points) {
  std::sort(points.begin(), points.end(), [](const ChartPoint& a, const ChartPoint& b) {
    return a.x != b.x ? a.x < b.x : a.y > b.y;
  });
  std::vector<ChartPoint> front;
  for (const auto& p : points)
    if (front.empty() || p.y > front.back().y) front.push_back(p);
  return front;
}

std::string render_svg(const Chart& c, bool standalone, int width, int height) {
  std::string out;
  if (standalone) out += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<svg";
  if (standalone) out += " xmlns=\"http://www.w3.org/2000/svg\"";
  out += " id=\"" + xml_escape(c.id) + "\" class=\"chart\" width=\"" + std::to_string(width) + "\" height=\"" +
         std::to_string(height) + "\" viewBox=\"0 0 " + std::to_string(width) + " " + std::to_string(height) +
         "\" role=\"img\" font-family=\"sans-serif\" font-size=\"11\">\n";
  out += "<title>" + xml_escape(c.title) + "</title>\n";
  out += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
  out += "<text x=\"" + std::to_string(width / 2) + "\" y=\"18\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\">" +
         xml_escape(c.title) + "</text>\n";
  if (c.empty()) {
    out += "<text class=\"no-data\" x=\"" + std::to_string(width / 2) + "\" y=\"" + std::to_string(height / 2) +
           "\" text-anchor=\"middle\" fill=\"#666666\">no data: no finished cell has these values</text>\n";
    return out + "</svg>\n";
  }

  // Data ranges (error bars included).
  double xlo = std::numeric_limits<double>::infinity(), xhi = -xlo, ylo = xlo, yhi = -xlo;
  auto cover = [&](const ChartPoint& p) {
    const double x = c.log2_x ? std::max(p.x, 1e-12) : p.x;
    xlo = std::min(xlo, x);
    xhi = std::max(xhi, x);
    ylo = std::min(ylo, p.y - p.yerr);
    yhi = std::max(yhi, p.y + p.yerr);
  };
  for (const auto& s : c.series)
    for (const auto& p : s.points) cover(p);
  const Axis ax = make_axis(xlo, xhi, c.log2_x), ay = make_axis(ylo, yhi, false);
  const double pw = width - kLeft - kRight, ph = height - kTop - kBottom;
  auto sx = [&](double x) {
    const double u = c.log2_x ? std::log2(std::max(x, 1e-12)) : x;
    return kLeft + (u - ax.lo) / (ax.hi - ax.lo) * pw;
  };
  auto sx_axis = [&](double u) { return kLeft + (u - ax.lo) / (ax.hi - ax.lo) * pw; };
  auto sy = [&](double y) { return kTop + ph - (y - ay.lo) / (ay.hi - ay.lo) * ph; };

  // Grid, ticks and axes.
  out += "<g class=\"axes\" stroke=\"#000000\" fill=\"none\">\n";
  out += "<rect x=\"" + std::to_string(kLeft) + "\" y=\"" + std::to_string(kTop) + "\" width=\"" + num(pw) +
         "\" height=\"" + num(ph) + "\"/>\n</g>\n<g class=\"ticks\" font-size=\"10\">\n";
  for (std::size_t i = 0; i < ax.ticks.size(); ++i) {
    const std::string x = num(sx_axis(ax.ticks[i]));
    out += "<line x1=\"" + x + "\" y1=\"" + num(kTop) + "\" x2=\"" + x + "\" y2=\"" + num(kTop + ph) +
           "\" stroke=\"#e5e5e5\"/>\n";
    out += "<text x=\"" + x + "\" y=\"" + num(kTop + ph + 14) + "\" text-anchor=\"middle\">" + xml_escape(ax.labels[i]) +
           "</text>\n";
  }
  for (std::size_t i = 0; i < ay.ticks.size(); ++i) {
    const std::string y = num(sy(ay.ticks[i]));
    out += "<line x1=\"" + num(kLeft) + "\" y1=\"" + y + "\" x2=\"" + num(kLeft + pw) + "\" y2=\"" + y +
           "\" stroke=\"#e5e5e5\"/>\n";
    out += "<text x=\"" + num(kLeft - 5) + "\" y=\"" + num(sy(ay.ticks[i]) + 3.5) + "\" text-anchor=\"end\">" +
           xml_escape(ay.labels[i]) + "</text>\n";
  }
  out += "</g>\n";
  out += "<text x=\"" + num(kLeft + pw / 2) + "\" y=\"" + num(height - 10) + "\" text-anchor=\"middle\">" +
         xml_escape(c.x_label) + (c.log2_x ? " (log scale)" : "") + "</text>\n";
  out += "<text transform=\"translate(14," + num(kTop + ph / 2) + ") rotate(-90)\" text-anchor=\"middle\">" +
         xml_escape(c.y_label) + "</text>\n";

  // Pareto front under the points.
  if (c.front.size() >= 2) {
    out += "<polyline class=\"pareto\" fill=\"none\" stroke=\"#444444\" stroke-width=\"1.2\" stroke-dasharray=\"2,3\" points=\"";
    for (std::size_t i = 0; i < c.front.size(); ++i) {
      out += (i ? " " : "");
      out += num(sx(c.front[i].x)) + "," + num(sy(c.front[i].y));
    }
    out += "\"/>\n";
  }

  // Series: optional line, error bars, markers.
  for (std::size_t si = 0; si < c.series.size(); ++si) {
    const Series& s = c.series[si];
    const std::string color = kPalette[si % std::size(kPalette)];
    out += "<g class=\"series\" stroke=\"" + color + "\" fill=\"" + color + "\">\n";
    if (s.line && s.points.size() >= 2) {
      out += "<polyline fill=\"none\" stroke-width=\"1.5\"";
      if (s.dashed) out += " stroke-dasharray=\"5,3\"";
      out += " points=\"";
      for (std::size_t i = 0; i < s.points.size(); ++i) {
        out += (i ? " " : "");
        out += num(sx(s.points[i].x)) + "," + num(sy(s.points[i].y));
      }
      out += "\"/>\n";
    }
    for (const auto& p : s.points) {
      const std::string x = num(sx(p.x));
      if (p.yerr > 0) {
        out += "<line class=\"errbar\" x1=\"" + x + "\" y1=\"" + num(sy(p.y - p.yerr)) + "\" x2=\"" + x + "\" y2=\"" +
               num(sy(p.y + p.yerr)) + "\"/>\n";
      }
      if (s.line && s.points.size() > 12) continue;  // a dense curve needs no markers
      out += "<circle cx=\"" + x + "\" cy=\"" + num(sy(p.y)) + "\" r=\"3\"";
      if (p.hollow) out += " fill=\"#ffffff\"";
      out += "/>\n";
    }
    out += "</g>\n";
  }

  // Legend at the right.
  out += "<g class=\"legend\">\n";
  const double lx = kLeft + pw + 12;
  for (std::size_t si = 0; si < c.series.size(); ++si) {
    const std::string color = kPalette[si % std::size(kPalette)];
    const double ly = kTop + 8 + 16 * static_cast<double>(si);
    out += "<line x1=\"" + num(lx) + "\" y1=\"" + num(ly) + "\" x2=\"" + num(lx + 16) + "\" y2=\"" + num(ly) +
           "\" stroke=\"" + color + "\" stroke-width=\"2\"" + (c.series[si].dashed ? " stroke-dasharray=\"4,2\"" : "") +
           "/>\n";
    out += "<text x=\"" + num(lx + 20) + "\" y=\"" + num(ly + 4) + "\">" + xml_escape(shorten(c.series[si].name, 24)) +
           "</text>\n";
  }
  if (c.front.size() >= 2) {
    const double ly = kTop + 8 + 16 * static_cast<double>(c.series.size());
    out += "<line x1=\"" + num(lx) + "\" y1=\"" + num(ly) + "\" x2=\"" + num(lx + 16) + "\" y2=\"" + num(ly) +
           "\" stroke=\"#444444\" stroke-dasharray=\"2,3\"/>\n<text x=\"" + num(lx + 20) + "\" y=\"" + num(ly + 4) +
           "\">Pareto front</text>\n";
  }
  out += "</g>\n</svg>\n";
  return out;
}

}  // namespace ternbench::reports
