// Byte streams: the seam through which large bodies move between the HTTP layer and artifact
// stores without being held whole in memory. Implementations are used by one thread at a time.
#ifndef PLINTH_CORE_IO_H_
#define PLINTH_CORE_IO_H_

#include <cstddef>
#include <cstdint>
#include <optional>

#include "core/result.h"

namespace plinth {

// A source of bytes read front to back (a request body, an open file).
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to `n` bytes into `buf`. Returns the count read; 0 means the end was reached.
  // Failure: kInternal for I/O errors, kBadRequest when a client's body is cut short.
  virtual Result<size_t> Read(char* buf, size_t n) = 0;
  // The total size when known in advance (Content-Length, file size).
  virtual std::optional<uint64_t> Size() const = 0;
};

}  // namespace plinth

#endif  // PLINTH_CORE_IO_H_
