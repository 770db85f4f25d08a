// Item grid and result records of batch jobs (batch.hpp).
#include "mriotrace/batch.hpp"

#include <cstring>

#include "mriotrace/error.hpp"

namespace mriotrace {

ItemKey item_key(const ItemGrid& g, Index id) {
  MRIOTRACE_CHECK(id >= 0 && id < g.total(), "item id ", id, " is out of range; the job has ", g.total(),
                  " items (0 .. ", g.total() - 1, ")");
  ItemKey k;
  k.id = id;
  if (id >= g.grid_items()) {
    k.sda = id - g.grid_items();
    return k;
  }
  const Index slot = id % g.slots(), cell = id / g.slots();
  k.draw = slot - 1;
  k.scenario = cell % g.scenarios;
  k.system = cell / g.scenarios;
  return k;
}

Index item_id(const ItemGrid& g, Index system, Index scenario, Index draw) {
  MRIOTRACE_CHECK(system >= 0 && system < g.systems, "system index ", system, " is out of range (", g.systems,
                  " systems)");
  MRIOTRACE_CHECK(scenario >= 0 && scenario < g.scenarios, "scenario index ", scenario, " is out of range (",
                  g.scenarios, " scenarios)");
  MRIOTRACE_CHECK(draw >= -1 && draw < g.draws, "draw ", draw, " is out of range (-1 or 0 .. ", g.draws - 1, ")");
  return (system * g.scenarios + scenario) * g.slots() + draw + 1;
}

const Matrix* ItemResult::find(const std::string& name) const {
  for (const auto& a : arrays)
    if (a.name == name) return &a.values;
  return nullptr;
}

std::uint64_t fnv1a64(const void* data, std::size_t size, std::uint64_t h) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < size; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::string hex64(std::uint64_t h) {
  static const char* digits = "0123456789abcdef";
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4) s[static_cast<size_t>(i)] = digits[h & 15];
  return s;
}

namespace {

constexpr char kTag[4] = {'M', 'T', 'I', 'R'};

class Writer {
 public:
  template <class T>
  void put(const T& v) {
    const char* p = reinterpret_cast<const char*>(&v);
    out.insert(out.end(), p, p + sizeof(T));
  }
  void put_string(const std::string& s) {
    put<std::uint64_t>(s.size());
    out.insert(out.end(), s.begin(), s.end());
  }
  void put_bytes(const void* data, std::size_t size) {
    const char* p = static_cast<const char*>(data);
    out.insert(out.end(), p, p + size);
  }
  std::vector<char> out;
};

class Reader {
 public:
  Reader(const char* p, std::size_t n) : p_(p), end_(p + n) {}
  template <class T>
  bool get(T& v) {
    if (static_cast<std::size_t>(end_ - p_) < sizeof(T)) return false;
    std::memcpy(&v, p_, sizeof(T));
    p_ += sizeof(T);
    return true;
  }
  bool get_string(std::string& s) {
    std::uint64_t n = 0;
    if (!get(n) || n > static_cast<std::uint64_t>(end_ - p_)) return false;
    s.assign(p_, p_ + n);
    p_ += n;
    return true;
  }
  bool get_bytes(void* dst, std::size_t n) {
    if (static_cast<std::size_t>(end_ - p_) < n) return false;
    std::memcpy(dst, p_, n);
    p_ += n;
    return true;
  }
  bool at_end() const { return p_ == end_; }

 private:
  const char* p_;
  const char* end_;
};

}  // namespace

std::vector<char> encode(const ItemResult& r) {
  Writer payload;
  payload.put<std::int64_t>(r.id);
  payload.put<std::int8_t>(static_cast<std::int8_t>(r.status));
  payload.put_string(r.message);
  payload.put<double>(r.seconds);
  payload.put<std::int32_t>(r.iterations);
  payload.put<std::int8_t>(r.refactored ? 1 : 0);
  payload.put<std::uint64_t>(r.arrays.size());
  for (const auto& a : r.arrays) {
    payload.put_string(a.name);
    payload.put<std::int64_t>(a.values.rows());
    payload.put<std::int64_t>(a.values.cols());
    payload.put_bytes(a.values.data(), static_cast<std::size_t>(a.values.size()) * sizeof(double));
  }
  Writer rec;
  rec.put_bytes(kTag, 4);
  rec.put<std::uint64_t>(payload.out.size());
  rec.put_bytes(payload.out.data(), payload.out.size());
  rec.put<std::uint64_t>(fnv1a64(payload.out.data(), payload.out.size()));
  return std::move(rec.out);
}

std::optional<ItemResult> decode(const char* data, std::size_t size, std::size_t& used) {
  used = 0;
  constexpr std::size_t head = 4 + sizeof(std::uint64_t), tail = sizeof(std::uint64_t);
  if (size < head + tail || std::memcmp(data, kTag, 4) != 0) return std::nullopt;
  std::uint64_t n = 0;
  std::memcpy(&n, data + 4, sizeof n);
  if (n > size - head - tail) return std::nullopt;
  std::uint64_t checksum = 0;
  std::memcpy(&checksum, data + head + n, sizeof checksum);
  if (checksum != fnv1a64(data + head, n)) return std::nullopt;
  Reader in(data + head, n);
  ItemResult r;
  std::int8_t status = 0, refactored = 0;
  std::uint64_t count = 0;
  if (!in.get(r.id) || !in.get(status) || !in.get_string(r.message) || !in.get(r.seconds) ||
      !in.get(r.iterations) || !in.get(refactored) || !in.get(count))
    return std::nullopt;
  if (status != 1 && status != 2) return std::nullopt;
  r.status = static_cast<ItemStatus>(status);
  r.refactored = refactored != 0;
  for (std::uint64_t i = 0; i < count; ++i) {
    ResultArray a;
    std::int64_t rows = 0, cols = 0;
    if (!in.get_string(a.name) || !in.get(rows) || !in.get(cols) || rows < 0 || cols < 0) return std::nullopt;
    if (rows > 0 && static_cast<std::uint64_t>(cols) > n / sizeof(double) / static_cast<std::uint64_t>(rows))
      return std::nullopt;
    a.values.resize(rows, cols);
    if (!in.get_bytes(a.values.data(), static_cast<std::size_t>(rows * cols) * sizeof(double))) return std::nullopt;
    r.arrays.push_back(std::move(a));
  }
  if (!in.at_end()) return std::nullopt;
  used = head + n + tail;
  return r;
}

}  // namespace mriotrace
