// The plain request/response helpers of http_server.h, apart from the Beast
// server so that handlers (and their fuzz target) build without it.
#include <boost/json.hpp>

#include "gateway/http_server.h"

namespace ztgate::gateway {

std::string HttpRequest::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k == name) return v;
  return {};
}

std::string HttpRequest::path() const { return target.substr(0, target.find('?')); }

HttpResponse json_error(int status, std::string_view code, std::string_view message, std::string_view request_id) {
  boost::json::object err{{"code", code}, {"message", message}, {"request_id", request_id}};
  return HttpResponse{status, "application/json", {}, boost::json::serialize(boost::json::object{{"error", err}}), {}, {}};
}

}  // namespace ztgate::gateway
