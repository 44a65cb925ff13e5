// RandomState: the random stream of numpy.random.RandomState (MT19937 with numpy's legacy
// conversions), so that a seeded sampler here draws the very numbers Optuna's does.
//
// Optuna seeds a numpy RandomState per sampler; reproducing its stream lets the golden tests
// replay a whole seeded Optuna study and compare every suggested value, not only statistics.
// Each method names the numpy call it reproduces. Not thread-safe; one per sampler.
#ifndef PLINTH_TUNE_RANDOM_STATE_H_
#define PLINTH_TUNE_RANDOM_STATE_H_

#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <utility>
#include <vector>

namespace plinth::tune {

class RandomState {
 public:
  // numpy.random.RandomState(seed): MT19937's init_genrand, as std::mt19937(seed).
  explicit RandomState(uint32_t seed) : mt_(seed) {}
  // An unpredictable seed from std::random_device (Optuna's seed=None).
  static RandomState FromEntropy();

  uint32_t NextUint32() { return static_cast<uint32_t>(mt_()); }
  // random_sample(): 53 random bits in [0, 1) from two 32-bit draws.
  double RandomSample() {
    uint32_t a = NextUint32() >> 5;
    uint32_t b = NextUint32() >> 6;
    return (a * 67108864.0 + b) / 9007199254740992.0;
  }
  // uniform(low, high): low + (high - low) * random_sample().
  double Uniform(double low, double high) { return low + (high - low) * RandomSample(); }
  // numpy's random_interval(max): uniform in [0, max] by masked rejection (shuffle's draw).
  uint64_t Interval(uint64_t max);
  // randint(low, high): uniform in [low, high), masked rejection on 32-bit draws.
  int64_t RandInt(int64_t low, int64_t high);
  // choice(len(p), p=p, size=n): inverse CDF of p's cumulative sum normalised by its last
  // entry, searched with side='right'. Appends n indices to `out`.
  void ChoiceWithProbabilities(std::span<const double> p, size_t n, std::vector<size_t>* out);

  // shuffle(list): Fisher-Yates from the end, j = Interval(i).
  template <typename T>
  void Shuffle(std::vector<T>* items) {
    for (size_t i = items->size(); i-- > 1;) {
      size_t j = static_cast<size_t>(Interval(i));
      std::swap((*items)[i], (*items)[j]);
    }
  }

 private:
  std::mt19937 mt_;
  std::vector<double> cdf_;  // reused by ChoiceWithProbabilities
};

}  // namespace plinth::tune

#endif  // PLINTH_TUNE_RANDOM_STATE_H_
