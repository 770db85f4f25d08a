// Plain-text layout shared by the reports the engine formats (scenario
// reports for the CLI and Python alike) and the command-line program.
#pragma once

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace mriotrace {

/// printf into a std::string.
template <class... Args>
std::string format(const char* fmt, Args... args) {
  const int len = std::snprintf(nullptr, 0, fmt, args...);
  std::string out(static_cast<size_t>(len > 0 ? len : 0), '\0');
  std::snprintf(out.data(), out.size() + 1, fmt, args...);
  return out;
}

/// 1234567 -> "1,234,567".
inline std::string thousands(long long value) {
  std::string digits = std::to_string(value < 0 ? -value : value), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return value < 0 ? "-" + out : out;
}

/// Cut a label to `width` characters, marking the cut with "...".
inline std::string clip(const std::string& s, size_t width) {
  return s.size() <= width ? s : s.substr(0, width - 3) + "...";
}

/// Each line of `text` wrapped at `width` columns. A long line breaks, in this
/// order of preference, after the last "; ", ", " or space that fits outside
/// brackets and quotes ("(China, Steel)" and "[a, b]" stay whole), else after
/// the last ", " or space inside them; continuation lines are indented 4 more
/// than the line itself. A word longer than a line stays whole.
inline std::string wrap_lines(const std::string& text, size_t width = 100) {
  auto best_cut = [](const std::string& line, size_t limit, size_t min) -> size_t {
    // depth[i]: brackets and quotes open before position i
    std::vector<int> depth(line.size() + 1, 0);
    int d = 0;
    bool quoted = false;
    for (size_t i = 0; i < line.size(); ++i) {
      depth[i] = d + (quoted ? 1 : 0);
      const char c = line[i];
      if (c == '"') quoted = !quoted;
      else if (!quoted && (c == '(' || c == '[' || c == '{')) ++d;
      else if (!quoted && (c == ')' || c == ']' || c == '}') && d > 0) --d;
    }
    const std::pair<const char*, bool> tries[] = {{"; ", true}, {", ", true}, {" ", true}, {", ", false}, {" ", false}};
    for (const auto& [sep, outside] : tries) {
      const size_t len = std::char_traits<char>::length(sep);
      for (size_t at = std::min(limit - len + 1, line.size()); at > min; --at)
        if (line.compare(at, len, sep) == 0 && (!outside || depth[at] == 0)) return at + len - 1;
    }
    return std::string::npos;
  };
  std::string out;
  size_t begin = 0;
  while (begin <= text.size()) {
    const size_t end = text.find('\n', begin);
    const bool last = end == std::string::npos;
    std::string line = text.substr(begin, last ? std::string::npos : end - begin);
    const size_t indent = std::min(line.find_first_not_of(' '), line.size()) + 4;
    while (line.size() > width) {
      const size_t cut = best_cut(line, width, indent + 8);  // keeps ";" or "," on this line
      if (cut == std::string::npos) break;
      std::string head = line.substr(0, cut);
      while (!head.empty() && head.back() == ' ') head.pop_back();
      out += head + '\n';
      const size_t rest = line.find_first_not_of(' ', cut);
      line = std::string(indent, ' ') + (rest == std::string::npos ? "" : line.substr(rest));
    }
    out += line;
    if (last) break;
    out += '\n';
    begin = end + 1;
  }
  return out;
}

}  // namespace mriotrace
