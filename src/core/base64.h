// Base64 (standard alphabet, padded), for opaque page tokens. Pure functions, thread-safe.
#ifndef PLINTH_CORE_BASE64_H_
#define PLINTH_CORE_BASE64_H_

#include <optional>
#include <string>
#include <string_view>

namespace plinth {

std::string Base64Encode(std::string_view bytes);
// nullopt when `text` is not valid base64.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace plinth

#endif  // PLINTH_CORE_BASE64_H_
