#include "canvas.hpp"

#include <cstdio>
#include <cstdlib>

#include "ternbench/reports/escape.hpp"

namespace ternbench::reports::detail {
namespace {

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string points_attr(const Points& pts) {
  std::string out;
  for (const auto& [x, y] : pts) {
    out += (out.empty() ? "" : " ");
    out += num(x) + "," + num(y);
  }
  return out;
}

std::string svg_dash(const Pen& pen) {
  if (pen.dashed) return " stroke-dasharray=\"5,3\"";
  if (pen.dotted) return " stroke-dasharray=\"2,3\"";
  return "";
}

std::string cls_attr(const std::string& cls) { return cls.empty() ? "" : " class=\"" + cls + "\""; }

// "#1f77b4" -> "0.122 0.467 0.706".
std::string pdf_rgb(const std::string& hex) {
  std::string out;
  for (int i = 0; i < 3; ++i) {
    const long v = std::strtol(hex.substr(1 + 2 * static_cast<std::size_t>(i), 2).c_str(), nullptr, 16);
    char buf[16];
    std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(v) / 255.0);
    if (i) out += ' ';
    out += buf;
  }
  return out;
}

// UTF-8 to the WinAnsi bytes of the standard fonts: ASCII, ± and ×; alpha is spelled out
// (the standard Helvetica has no Greek); anything else becomes '?'.
std::string win_ansi(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) { out += static_cast<char>(c); continue; }
    const std::string two = s.substr(i, 2);
    if (two == "±") out += '\xb1';
    else if (two == "×") out += '\xd7';
    else if (two == "α") out += "alpha";
    else out += '?';
    while (i + 1 < s.size() && (static_cast<unsigned char>(s[i + 1]) & 0xc0) == 0x80) ++i;  // rest of the code point
  }
  return out;
}

// Helvetica advance widths (1/1000 em) of the characters 32..126, from its AFM; used to
// centre and right-align text as SVG's text-anchor does.
constexpr short kHelvetica[95] = {
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778,
    722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278,
    278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584};

double text_width(const std::string& ansi, const Font& font) {
  double w = 0;
  for (char ch : ansi) {
    const auto c = static_cast<unsigned char>(ch);
    w += c >= 32 && c < 127 ? kHelvetica[c - 32] : 584;
  }
  return w / 1000.0 * font.size * (font.bold ? 1.07 : 1.0);
}

std::string pdf_string(const std::string& ansi) {
  std::string out = "(";
  for (char c : ansi) {
    if (c == '(' || c == ')' || c == '\\') out += '\\';
    out += c;
  }
  return out + ")";
}

}  // namespace

void SvgCanvas::line(double x1, double y1, double x2, double y2, const Pen& pen, const std::string& cls) {
  out_ += "<line" + cls_attr(cls) + " x1=\"" + num(x1) + "\" y1=\"" + num(y1) + "\" x2=\"" + num(x2) + "\" y2=\"" +
          num(y2) + "\" stroke=\"" + pen.color + "\"" + (pen.width != 1 ? " stroke-width=\"" + num(pen.width) + "\"" : "") +
          svg_dash(pen) + "/>\n";
}

void SvgCanvas::polyline(const Points& pts, const Pen& pen, const std::string& cls) {
  out_ += "<polyline" + cls_attr(cls) + " fill=\"none\" stroke=\"" + pen.color + "\" stroke-width=\"" + num(pen.width) +
          "\"" + svg_dash(pen) + " points=\"" + points_attr(pts) + "\"/>\n";
}

void SvgCanvas::rect(double x, double y, double w, double h, const Pen& pen) {
  out_ += "<rect x=\"" + num(x) + "\" y=\"" + num(y) + "\" width=\"" + num(w) + "\" height=\"" + num(h) +
          "\" fill=\"none\" stroke=\"" + pen.color + "\"/>\n";
}

void SvgCanvas::area(const Points& outline, const std::string& color, const std::string& cls) {
  out_ += "<polygon" + cls_attr(cls) + " fill=\"" + color + "\" fill-opacity=\"0.2\" stroke=\"none\" points=\"" +
          points_attr(outline) + "\"/>\n";
}

void SvgCanvas::circle(double x, double y, double r, const std::string& stroke, const std::string& fill) {
  out_ += "<circle cx=\"" + num(x) + "\" cy=\"" + num(y) + "\" r=\"" + num(r) + "\" stroke=\"" + stroke + "\" fill=\"" +
          fill + "\"/>\n";
}

void SvgCanvas::text(double x, double y, const std::string& s, const Font& font, const std::string& cls) {
  out_ += "<text";
  out_ += cls_attr(cls);
  if (font.vertical) out_ += " transform=\"translate(" + num(x) + "," + num(y) + ") rotate(-90)\"";
  else out_ += " x=\"" + num(x) + "\" y=\"" + num(y) + "\"";
  if (font.anchor == Anchor::kMiddle) out_ += " text-anchor=\"middle\"";
  if (font.anchor == Anchor::kEnd) out_ += " text-anchor=\"end\"";
  if (font.size != 11) out_ += " font-size=\"" + num(font.size) + "\"";
  if (font.bold) out_ += " font-weight=\"bold\"";
  if (font.color != "#000000") out_ += " fill=\"" + font.color + "\"";
  out_.append(">").append(xml_escape(s)).append("</text>\n");
}

void PdfCanvas::stroke_style(const Pen& pen) {
  ops_ += pdf_rgb(pen.color) + " RG " + num(pen.width) + " w " +
          (pen.dashed ? "[5 3] 0 d\n" : pen.dotted ? "[2 3] 0 d\n" : "[] 0 d\n");
}

void PdfCanvas::line(double x1, double y1, double x2, double y2, const Pen& pen, const std::string&) {
  stroke_style(pen);
  ops_ += num(x1) + " " + num(height_ - y1) + " m " + num(x2) + " " + num(height_ - y2) + " l S\n";
}

void PdfCanvas::polyline(const Points& pts, const Pen& pen, const std::string&) {
  if (pts.empty()) return;
  stroke_style(pen);
  for (std::size_t i = 0; i < pts.size(); ++i)
    ops_ += num(pts[i].first) + " " + num(height_ - pts[i].second) + (i ? " l\n" : " m\n");
  ops_ += "S\n";
}

void PdfCanvas::rect(double x, double y, double w, double h, const Pen& pen) {
  stroke_style(pen);
  ops_ += num(x) + " " + num(height_ - y - h) + " " + num(w) + " " + num(h) + " re S\n";
}

void PdfCanvas::area(const Points& outline, const std::string& color, const std::string&) {
  if (outline.empty()) return;
  ops_ += "q /Band gs " + pdf_rgb(color) + " rg\n";
  for (std::size_t i = 0; i < outline.size(); ++i)
    ops_ += num(outline[i].first) + " " + num(height_ - outline[i].second) + (i ? " l\n" : " m\n");
  ops_ += "h f Q\n";
}

void PdfCanvas::circle(double x, double y, double r, const std::string& stroke, const std::string& fill) {
  const double k = 0.5523 * r, cy = height_ - y;  // four Bezier quarter arcs
  ops_ += pdf_rgb(stroke) + " RG " + pdf_rgb(fill) + " rg 1.0 w [] 0 d\n";
  ops_ += num(x + r) + " " + num(cy) + " m\n";
  ops_ += num(x + r) + " " + num(cy + k) + " " + num(x + k) + " " + num(cy + r) + " " + num(x) + " " + num(cy + r) + " c\n";
  ops_ += num(x - k) + " " + num(cy + r) + " " + num(x - r) + " " + num(cy + k) + " " + num(x - r) + " " + num(cy) + " c\n";
  ops_ += num(x - r) + " " + num(cy - k) + " " + num(x - k) + " " + num(cy - r) + " " + num(x) + " " + num(cy - r) + " c\n";
  ops_ += num(x + k) + " " + num(cy - r) + " " + num(x + r) + " " + num(cy - k) + " " + num(x + r) + " " + num(cy) + " c\n";
  ops_ += "b\n";
}

void PdfCanvas::text(double x, double y, const std::string& s, const Font& font, const std::string&) {
  const std::string ansi = win_ansi(s);
  const double w = text_width(ansi, font);
  const double shift = font.anchor == Anchor::kMiddle ? w / 2 : font.anchor == Anchor::kEnd ? w : 0;
  const double px = font.vertical ? x : x - shift, py = font.vertical ? height_ - y - shift : height_ - y;
  ops_ += "BT " + pdf_rgb(font.color) + " rg /" + (font.bold ? "F2 " : "F1 ") + num(font.size) + " Tf " +
          (font.vertical ? "0 1 -1 0 " : "1 0 0 1 ") + num(px) + " " + num(py) + " Tm " + pdf_string(ansi) + " Tj ET\n";
}

std::string PdfCanvas::document(double width) const {
  const std::string objects[] = {
      "<< /Type /Catalog /Pages 2 0 R >>",
      "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
      "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 " + num(width) + " " + num(height_) +
          "] /Resources << /Font << /F1 4 0 R /F2 5 0 R >> /ExtGState << /Band 6 0 R >> >> /Contents 7 0 R >>",
      "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
      "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
      "<< /Type /ExtGState /ca 0.2 >>",
      "<< /Length " + std::to_string(ops_.size()) + " >>\nstream\n" + ops_ + "endstream",
  };
  std::string out = "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n";  // the binary comment marks the file as binary
  std::vector<std::size_t> offsets;
  for (std::size_t i = 0; i < std::size(objects); ++i) {
    offsets.push_back(out.size());
    out += std::to_string(i + 1) + " 0 obj\n" + objects[i] + "\nendobj\n";
  }
  const std::size_t xref = out.size();
  out += "xref\n0 " + std::to_string(offsets.size() + 1) + "\n0000000000 65535 f \n";
  for (std::size_t off : offsets) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%010zu 00000 n \n", off);
    out += buf;
  }
  out += "trailer\n<< /Size " + std::to_string(offsets.size() + 1) + " /Root 1 0 R >>\nstartxref\n" +
         std::to_string(xref) + "\n%%EOF\n";
  return out;
}

}  // namespace ternbench::reports::detail
