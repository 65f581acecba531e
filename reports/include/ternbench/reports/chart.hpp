#pragma once
// Charts as data, and their rendering to standalone SVG (no scripts, no external
// references), so reports embed them inline and tests can read them, and to one-page PDF
// for \includegraphics in LaTeX.
#include <limits>
#include <string>
#include <vector>

namespace ternbench::reports {

struct ChartPoint {
  double x = 0, y = 0;
  double yerr = 0;      // half-length of the error bar (0: none)
  bool hollow = false;  // fewer seeds than the report's minimum
  std::string label;    // drawn beside the marker ("alpha=0.5"); "" for none
};

struct Series {
  std::string name;
  std::vector<ChartPoint> points;  // drawn in this order
  bool line = false;               // join the points
  bool dashed = false;
  std::string color;   // "#rrggbb"; "" takes the palette colour of the series' position
  bool band = false;   // yerr drawn as a shaded band around the line instead of error bars
};

struct Chart {
  std::string id;  // unique within a report: used for element ids and file names
  std::string title, x_label, y_label;
  bool log2_x = false;             // x on a log2 axis (bits per weight)
  std::vector<Series> series;
  std::vector<ChartPoint> front;   // Pareto front, drawn as a dashed step line ([] = none)
  std::vector<std::string> notes;  // shown under the chart (cells left out, hollow markers)
  // The metric's range (accuracy 0..100, sparsity 0..1): error bars and bands stop there.
  double y_min = -std::numeric_limits<double>::infinity();
  double y_max = std::numeric_limits<double>::infinity();
  bool empty() const;              // no series has a point
};

// "Nice" tick positions covering [lo, hi]: steps of 1, 2 or 5 times a power of ten, about
// `target` of them. lo == hi is widened around the value.
std::vector<double> nice_ticks(double lo, double hi, int target = 5);
// Shortest decimal text of a tick value ("0.25", "1", "1e-05").
std::string tick_label(double v);

// Renders a chart as an <svg> element (width x height pixels). A chart without points
// renders its title and "no data" text instead of empty axes. `standalone` adds the XML
// declaration and namespace a separate .svg file needs (inline SVG in HTML needs neither).
std::string render_svg(const Chart& chart, bool standalone, int width = 560, int height = 340);
// The same drawing as a one-page PDF (width x height points), standard Helvetica, no
// embedded fonts: what \includegraphics needs under pdflatex without a converter.
std::string render_pdf(const Chart& chart, int width = 560, int height = 340);

// Points not dominated by another (higher y for lower or equal x); for accuracy vs bits.
std::vector<ChartPoint> pareto_front(std::vector<ChartPoint> points);

}  // namespace ternbench::reports
