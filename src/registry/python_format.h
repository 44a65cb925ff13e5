// The few Python formatting functions MLflow's registry messages and tags are made of, so Plinth
// prints the same text: repr() of a str, json.dumps() of a str (ensure_ascii), and
// posixpath.normpath(). Pure functions, thread-safe. Internal to src/registry/.
#ifndef PLINTH_REGISTRY_PYTHON_FORMAT_H_
#define PLINTH_REGISTRY_PYTHON_FORMAT_H_

#include <string>
#include <string_view>

#include "core/python_repr.h"

namespace plinth::registry {

using ::plinth::PythonRepr;  // repr() of a str (core/python_repr.h)

// json.dumps(s): double quotes, JSON escapes, every non-ASCII character as \uXXXX (UTF-16).
std::string PythonJsonString(std::string_view s);

// posixpath.normpath(p): "." for "", repeated and trailing slashes dropped (a leading "//" kept),
// "." segments removed, ".." resolved where it can be.
std::string PosixNormpath(std::string_view p);

}  // namespace plinth::registry

#endif  // PLINTH_REGISTRY_PYTHON_FORMAT_H_
