// Reads a fuzz input as a stream of small decisions, for structure-aware targets: each call
// consumes a few bytes and never fails (an exhausted input yields zeros and empty strings).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace bastion::fuzz {

class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  bool empty() const { return pos_ >= size_; }
  uint8_t Byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  bool Bool() { return (Byte() & 1) != 0; }
  // A value in [0, n) for n >= 1.
  size_t Below(size_t n) {
    size_t v = Byte();
    if (n > 256) v = (v << 8) | Byte();
    return n == 0 ? 0 : v % n;
  }
  int64_t Int() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | Byte();
    return static_cast<int64_t>(v);
  }
  // Up to `max` bytes: a length byte, then that many bytes of input.
  std::string String(size_t max = 64) {
    size_t n = Below(max + 1);
    std::string out;
    while (out.size() < n && !empty()) out.push_back(static_cast<char>(Byte()));
    return out;
  }
  // Whatever is left.
  std::string Rest() {
    std::string out(reinterpret_cast<const char*>(data_ + pos_), pos_ < size_ ? size_ - pos_ : 0);
    pos_ = size_;
    return out;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

}  // namespace bastion::fuzz
