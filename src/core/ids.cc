#include "core/ids.h"

#include <array>
#include <cstdint>
#include <random>

namespace plinth {
namespace {

std::mt19937_64& ThreadRng() {
  thread_local std::mt19937_64 rng([] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }());
  return rng;
}

std::string RandomHex32() {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(32, '0');
  uint64_t hi = ThreadRng()();
  uint64_t lo = ThreadRng()();
  // uuid4 layout: version nibble 4 and variant bits 10xx.
  hi = (hi & ~0xF000ULL) | 0x4000ULL;
  lo = (lo & ~(0x3ULL << 62)) | (0x2ULL << 62);
  for (int i = 0; i < 16; ++i) {
    out[15 - i] = kHex[(hi >> (4 * i)) & 0xF];
    out[31 - i] = kHex[(lo >> (4 * i)) & 0xF];
  }
  return out;
}

constexpr std::array<std::string_view, 24> kAdjectives = {
    "amazing", "bold",   "brave", "bright", "calm",    "clean",  "clever", "crisp",
    "daring",  "eager",  "fast",  "gentle", "glowing", "honest", "keen",   "lively",
    "lucky",   "nimble", "quiet", "rare",   "smooth",  "steady", "sunny",  "wise"};
constexpr std::array<std::string_view, 24> kAnimals = {
    "ant",  "bat",  "bear",  "bee", "carp",  "colt", "crab", "deer",
    "dove", "eel",  "finch", "fox", "gnat",  "hawk", "koi",  "lark",
    "lynx", "mole", "newt",  "owl", "panda", "seal", "slug", "wolf"};

}  // namespace

std::string NewRunId() { return RandomHex32(); }

std::string NewLoggedModelId() { return "m-" + RandomHex32(); }

std::string NewRunName() {
  auto& rng = ThreadRng();
  std::string name(kAdjectives[rng() % kAdjectives.size()]);
  name += '-';
  name += kAnimals[rng() % kAnimals.size()];
  name += '-';
  name += std::to_string(rng() % 1000);
  return name;
}

bool IsRunIdShape(std::string_view id) {
  if (id.size() != 32) {
    return false;
  }
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

}  // namespace plinth
