#include "ternbench/reports/chart.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <limits>

#include "canvas.hpp"
#include "ternbench/reports/escape.hpp"

namespace ternbench::reports {
namespace {

constexpr const char* kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                    "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"};
constexpr int kLeft = 62, kRight = 170, kTop = 34, kBottom = 48;  // plot margins (px)

std::string shorten(const std::string& s, std::size_t n) {
  return s.size() <= n ? s : s.substr(0, n - 1) + "~";
}

struct Axis {
  double lo = 0, hi = 1;
  std::vector<double> ticks;   // in axis units (log2 of the value for a log axis)
  std::vector<std::string> labels;
};

// Pads the data range by 5% (a factor 1.2 on a log axis) so that no point sits on the frame.
// A linear axis stops at the metric's range [y_min, y_max] when the data does.
Axis make_axis(double lo, double hi, bool log2, double y_min = -std::numeric_limits<double>::infinity(),
               double y_max = std::numeric_limits<double>::infinity()) {
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
  double from = lo >= 0 && lo - pad < 0 ? 0.0 : lo - pad, to = hi + pad;
  if (lo >= y_min && from < y_min) from = y_min;
  if (hi <= y_max && to > y_max) to = y_max;
  a.ticks = nice_ticks(from, to);
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

namespace {

// Lays the chart out once and draws it on any canvas.
void draw(const Chart& c, detail::Canvas& cv, int width, int height) {
  using detail::Anchor;
  using detail::Font;
  using detail::Pen;
  cv.text(width / 2.0, 18, c.title, Font{13, Anchor::kMiddle, true, false, "#000000"});
  if (c.empty()) {
    cv.text(width / 2.0, height / 2.0, "no data: no finished cell has these values",
            Font{11, Anchor::kMiddle, false, false, "#666666"}, "no-data");
    return;
  }
  auto low = [&](const ChartPoint& p) { return std::max(p.y - p.yerr, std::min(p.y, c.y_min)); };
  auto high = [&](const ChartPoint& p) { return std::min(p.y + p.yerr, std::max(p.y, c.y_max)); };

  // Data ranges (error bars included, as clipped).
  double xlo = std::numeric_limits<double>::infinity(), xhi = -xlo, ylo = xlo, yhi = -xlo;
  for (const auto& s : c.series)
    for (const auto& p : s.points) {
      const double x = c.log2_x ? std::max(p.x, 1e-12) : p.x;
      xlo = std::min(xlo, x);
      xhi = std::max(xhi, x);
      ylo = std::min(ylo, low(p));
      yhi = std::max(yhi, high(p));
    }
  const Axis ax = make_axis(xlo, xhi, c.log2_x), ay = make_axis(ylo, yhi, false, c.y_min, c.y_max);
  const double pw = width - kLeft - kRight, ph = height - kTop - kBottom;
  auto sx_axis = [&](double u) { return kLeft + (u - ax.lo) / (ax.hi - ax.lo) * pw; };
  auto sx = [&](double x) { return sx_axis(c.log2_x ? std::log2(std::max(x, 1e-12)) : x); };
  auto sy = [&](double y) { return kTop + ph - (y - ay.lo) / (ay.hi - ay.lo) * ph; };
  const Pen grid{"#e5e5e5", 1, false, false};
  const Font tick{10, Anchor::kMiddle, false, false, "#000000"};

  // Grid, ticks, frame and axis labels.
  for (std::size_t i = 0; i < ax.ticks.size(); ++i) {
    const double x = sx_axis(ax.ticks[i]);
    cv.line(x, kTop, x, kTop + ph, grid);
    cv.text(x, kTop + ph + 14, ax.labels[i], tick);
  }
  for (std::size_t i = 0; i < ay.ticks.size(); ++i) {
    const double y = sy(ay.ticks[i]);
    cv.line(kLeft, y, kLeft + pw, y, grid);
    cv.text(kLeft - 5, y + 3.5, ay.labels[i], Font{10, Anchor::kEnd, false, false, "#000000"});
  }
  cv.rect(kLeft, kTop, pw, ph, Pen{});
  cv.text(kLeft + pw / 2, height - 10, c.x_label + (c.log2_x ? " (log scale)" : ""), Font{11, Anchor::kMiddle, false, false, "#000000"});
  cv.text(14, kTop + ph / 2, c.y_label, Font{11, Anchor::kMiddle, false, true, "#000000"});

  // Pareto front under the points.
  const Pen front_pen{"#444444", 1.2, false, true};
  if (c.front.size() >= 2) {
    detail::Points pts;
    for (const auto& p : c.front) pts.emplace_back(sx(p.x), sy(p.y));
    cv.polyline(pts, front_pen, "pareto");
  }

  // Series: band or error bars, line, markers, point labels.
  auto color_of = [&](std::size_t si) {
    return c.series[si].color.empty() ? std::string(kPalette[si % std::size(kPalette)]) : c.series[si].color;
  };
  for (std::size_t si = 0; si < c.series.size(); ++si) {
    const Series& s = c.series[si];
    const std::string color = color_of(si);
    if (s.band && s.points.size() >= 2) {
      detail::Points outline;
      for (const auto& p : s.points) outline.emplace_back(sx(p.x), sy(high(p)));
      for (auto it = s.points.rbegin(); it != s.points.rend(); ++it) outline.emplace_back(sx(it->x), sy(low(*it)));
      cv.area(outline, color, "band");
    }
    if (s.line && s.points.size() >= 2) {
      detail::Points pts;
      for (const auto& p : s.points) pts.emplace_back(sx(p.x), sy(p.y));
      cv.polyline(pts, Pen{color, 1.5, s.dashed, false}, "series");
    }
    for (const auto& p : s.points) {
      const double x = sx(p.x);
      if (p.yerr > 0 && !s.band) cv.line(x, sy(low(p)), x, sy(high(p)), Pen{color, 1, false, false}, "errbar");
      if (!(s.line && s.points.size() > 12)) cv.circle(x, sy(p.y), 3, color, p.hollow ? "#ffffff" : color);
      if (!p.label.empty()) cv.text(x + 5, sy(p.y) - 5, p.label, Font{8, Anchor::kStart, false, false, "#333333"}, "point-label");
    }
  }

  // Legend at the right.
  const double lx = kLeft + pw + 12;
  const Font legend{11, Anchor::kStart, false, false, "#000000"};
  for (std::size_t si = 0; si < c.series.size(); ++si) {
    const double ly = kTop + 8 + 16 * static_cast<double>(si);
    cv.line(lx, ly, lx + 16, ly, Pen{color_of(si), 2, c.series[si].dashed, false}, "legend");
    cv.text(lx + 20, ly + 4, shorten(c.series[si].name, 24), legend);
  }
  if (c.front.size() >= 2) {
    const double ly = kTop + 8 + 16 * static_cast<double>(c.series.size());
    cv.line(lx, ly, lx + 16, ly, front_pen, "legend");
    cv.text(lx + 20, ly + 4, "Pareto front", legend);
  }
}

}  // namespace

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
  detail::SvgCanvas cv(out);
  draw(c, cv, width, height);
  return out + "</svg>\n";
}

std::string render_pdf(const Chart& c, int width, int height) {
  detail::PdfCanvas cv(height);
  draw(c, cv, width, height);
  return cv.document(width);
}

}  // namespace ternbench::reports
