#pragma once
// The few drawing primitives a chart needs, so one layout (chart.cpp) renders to SVG for
// the Markdown and HTML reports and to PDF for \includegraphics in LaTeX (private to
// tb::reports). Coordinates are in points, origin top left, y down, as in SVG.
#include <string>
#include <utility>
#include <vector>

namespace ternbench::reports::detail {

using Points = std::vector<std::pair<double, double>>;

struct Pen {
  std::string color = "#000000";
  double width = 1;
  bool dashed = false;  // 5 on, 3 off
  bool dotted = false;  // 2 on, 3 off
};

enum class Anchor { kStart, kMiddle, kEnd };

struct Font {
  double size = 11;
  Anchor anchor = Anchor::kStart;
  bool bold = false;
  bool vertical = false;  // rotated 90 degrees counter-clockwise (a y-axis label)
  std::string color = "#000000";
};

class Canvas {
 public:
  virtual ~Canvas() = default;
  // `cls` names the element's role in the SVG ("errbar", "band"); PDF ignores it.
  virtual void line(double x1, double y1, double x2, double y2, const Pen& pen, const std::string& cls = "") = 0;
  virtual void polyline(const Points& pts, const Pen& pen, const std::string& cls = "") = 0;
  virtual void rect(double x, double y, double w, double h, const Pen& pen) = 0;
  virtual void area(const Points& outline, const std::string& color, const std::string& cls) = 0;  // 20% opaque
  virtual void circle(double x, double y, double r, const std::string& stroke, const std::string& fill) = 0;
  virtual void text(double x, double y, const std::string& s, const Font& font, const std::string& cls = "") = 0;
};

class SvgCanvas final : public Canvas {
 public:
  explicit SvgCanvas(std::string& out) : out_(out) {}
  void line(double x1, double y1, double x2, double y2, const Pen& pen, const std::string& cls) override;
  void polyline(const Points& pts, const Pen& pen, const std::string& cls) override;
  void rect(double x, double y, double w, double h, const Pen& pen) override;
  void area(const Points& outline, const std::string& color, const std::string& cls) override;
  void circle(double x, double y, double r, const std::string& stroke, const std::string& fill) override;
  void text(double x, double y, const std::string& s, const Font& font, const std::string& cls) override;

 private:
  std::string& out_;
};

// Collects a page's content stream; pdf_document wraps it into a one-page PDF with the
// standard Helvetica fonts (no embedded font, no date: the bytes depend on the chart only).
class PdfCanvas final : public Canvas {
 public:
  explicit PdfCanvas(double height) : height_(height) {}
  void line(double x1, double y1, double x2, double y2, const Pen& pen, const std::string& cls) override;
  void polyline(const Points& pts, const Pen& pen, const std::string& cls) override;
  void rect(double x, double y, double w, double h, const Pen& pen) override;
  void area(const Points& outline, const std::string& color, const std::string& cls) override;
  void circle(double x, double y, double r, const std::string& stroke, const std::string& fill) override;
  void text(double x, double y, const std::string& s, const Font& font, const std::string& cls) override;
  std::string document(double width) const;

 private:
  void stroke_style(const Pen& pen);
  double height_;
  std::string ops_;
};

}  // namespace ternbench::reports::detail
