// Python's repr() of a str, for the MLflow messages that print one (the search grammar's and the
// registry's errors), so Plinth prints the same text.
#ifndef PLINTH_CORE_PYTHON_REPR_H_
#define PLINTH_CORE_PYTHON_REPR_H_

#include <string>
#include <string_view>

namespace plinth {

// repr(s): single quotes unless s holds a ' and no ", backslash escapes for the quote, \\, \n,
// \r, \t.
std::string PythonRepr(std::string_view s);

}  // namespace plinth

#endif  // PLINTH_CORE_PYTHON_REPR_H_
