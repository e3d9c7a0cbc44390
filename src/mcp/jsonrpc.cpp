#include "mcp/jsonrpc.h"

#include <boost/json.hpp>

#include "common/json_keys.h"

namespace ztgate::mcp {
namespace {

namespace json = boost::json;

Error invalid(std::string why) { return make_error("jsonrpc_invalid", std::move(why)); }

bool valid_id(const json::value& id) {
  if (id.is_int64() || id.is_uint64()) return true;
  return id.is_string() && id.as_string().size() <= kMaxMethodBytes;
}

}  // namespace

Result<Message> parse_message(std::string_view text) {
  if (text.size() > kMaxMessageBytes) return make_error("jsonrpc_parse", "the message is larger than 4 MiB");
  boost::system::error_code ec;
  std::optional<std::string> duplicate;
  json::value v = parse_json_checking_keys(text, kMaxDepth, ec, duplicate);
  if (ec) return make_error("jsonrpc_parse", "the message is not valid JSON (or nests deeper than 64)");
  if (duplicate) return make_error("jsonrpc_parse", "duplicate key `" + printable_key(*duplicate) + "` in a JSON object");
  if (v.is_array()) return invalid("JSON-RPC batches are not supported (MCP 2025-06-18 and later send one message at a time)");
  if (!v.is_object()) return invalid("a JSON-RPC message must be a JSON object");
  json::object& o = v.as_object();
  const json::value* version = o.if_contains("jsonrpc");
  if (version == nullptr || !version->is_string() || version->as_string() != "2.0")
    return invalid("`jsonrpc` must be \"2.0\"");
  Message m;
  // Members are taken through if_contains only: object::operator[] reserves
  // room for one more member first, which may rehash and leave `id` dangling.
  const json::value* id = o.if_contains("id");
  if (id != nullptr && !id->is_null() && !valid_id(*id)) return invalid("`id` must be a string or an integer");
  if (const json::value* method = o.if_contains("method")) {
    if (!method->is_string() || method->as_string().empty() || method->as_string().size() > kMaxMethodBytes)
      return invalid("`method` must be a non-empty string of at most 256 bytes");
    if (o.contains("result") || o.contains("error")) return invalid("a request cannot carry `result` or `error`");
    m.method = std::string(method->as_string());
    if (json::value* params = o.if_contains("params")) {
      if (!params->is_object()) return invalid("`params` must be an object");
      m.params = std::move(params->as_object());
    }
    if (id == nullptr) {
      m.kind = MessageKind::kNotification;
    } else {
      if (id->is_null()) return invalid("a request's `id` must not be null");
      m.kind = MessageKind::kRequest;
      m.id = *id;
    }
    return m;
  }
  if (id == nullptr) return invalid("a response needs an `id`");
  m.id = *id;
  json::value* result = o.if_contains("result");
  json::value* error = o.if_contains("error");
  if ((result == nullptr) == (error == nullptr)) return invalid("a response carries exactly one of `result` and `error`");
  if (result != nullptr) {
    m.kind = MessageKind::kResult;
    m.result = std::move(*result);
    return m;
  }
  if (!error->is_object()) return invalid("`error` must be an object");
  const json::object& e = error->as_object();
  const json::value* code = e.if_contains("code");
  const json::value* message = e.if_contains("message");
  if (code == nullptr || !code->is_int64() || message == nullptr || !message->is_string())
    return invalid("`error` needs an integer `code` and a string `message`");
  m.kind = MessageKind::kError;
  m.error = std::move(error->as_object());
  return m;
}

std::string result_response(const json::value& id, const json::value& result) {
  return json::serialize(json::object{{"jsonrpc", "2.0"}, {"id", id}, {"result", result}});
}

std::string error_response(const json::value& id, int code, std::string_view message, const json::object& data) {
  json::object error{{"code", code}, {"message", message}};
  if (!data.empty()) error["data"] = data;
  return json::serialize(json::object{{"jsonrpc", "2.0"}, {"id", id}, {"error", std::move(error)}});
}

std::string request_text(const json::value& id, std::string_view method, const json::object& params) {
  json::object o{{"jsonrpc", "2.0"}, {"method", method}};
  if (!id.is_null()) o["id"] = id;
  if (!params.empty()) o["params"] = params;
  return json::serialize(o);
}

std::string id_text(const json::value& id) { return json::serialize(id); }

}  // namespace ztgate::mcp
