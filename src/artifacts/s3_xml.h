// The XML bodies of S3's REST API that the artifact store reads and writes: ListObjectsV2 pages,
// error documents, multipart upload replies and multi-object delete. Parsing is done by expat
// (Debian's libexpat, a packaged, fuzzed parser) into a small element tree; only the few fields
// the store needs are extracted. Pure functions, thread-safe.
#ifndef PLINTH_ARTIFACTS_S3_XML_H_
#define PLINTH_ARTIFACTS_S3_XML_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace plinth::artifacts {

struct S3ListedObject {
  std::string key;  // decoded (the store asks for encoding-type=url)
  int64_t size = 0;
};

struct S3ListPage {
  std::vector<S3ListedObject> objects;
  std::vector<std::string> common_prefixes;  // decoded, ending in the delimiter
  bool is_truncated = false;
  std::string next_continuation_token;
};

// An S3 error document: <Error><Code>NoSuchKey</Code><Message>...</Message></Error>.
struct S3Error {
  std::string code;
  std::string message;
};

// Parses a ListBucketResult (ListObjectsV2). When `url_encoded` (the request asked for
// encoding-type=url), keys and prefixes are percent-decoded. Failure: kInternal on bad XML.
Result<S3ListPage> ParseListObjectsV2(std::string_view xml, bool url_encoded);

// Parses an <Error> document. Returns false when `xml` is not one (empty body, HTML, other root).
bool ParseS3Error(std::string_view xml, S3Error* error);

// The UploadId of an InitiateMultipartUploadResult. Failure: kInternal.
Result<std::string> ParseInitiateMultipartUpload(std::string_view xml);

// The keys that failed in a DeleteResult, with their errors (quiet mode lists only those).
Result<std::vector<std::pair<std::string, S3Error>>> ParseDeleteResult(std::string_view xml);

// Request bodies.
std::string CompleteMultipartUploadXml(const std::vector<std::string>& etags);  // part i+1
std::string DeleteObjectsXml(const std::vector<std::string>& keys);             // quiet mode

// Escapes &, <, >, " and ' for XML text.
std::string XmlEscape(std::string_view text);

}  // namespace plinth::artifacts

#endif  // PLINTH_ARTIFACTS_S3_XML_H_
