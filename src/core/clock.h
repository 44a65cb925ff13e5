// Clock: where time comes from (LevelDB's Env seam for time). SystemClock is the real one and is
// thread-safe; FakeClock is for tests and is thread-safe too.
#ifndef PLINTH_CORE_CLOCK_H_
#define PLINTH_CORE_CLOCK_H_

#include <atomic>
#include <cstdint>

namespace plinth {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch, as MLflow stores times.
  virtual int64_t NowMillis() const = 0;
  // A monotonic reading in microseconds, for durations only.
  virtual int64_t MonotonicMicros() const = 0;

  // The process-wide real clock; never null, never destroyed.
  static Clock* System();
};

class FakeClock : public Clock {
 public:
  explicit FakeClock(int64_t now_millis) : now_(now_millis) {}
  int64_t NowMillis() const override { return now_.load(); }
  int64_t MonotonicMicros() const override { return now_.load() * 1000; }
  void Advance(int64_t millis) { now_ += millis; }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace plinth

#endif  // PLINTH_CORE_CLOCK_H_
