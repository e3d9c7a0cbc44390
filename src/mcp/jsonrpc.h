// JSON-RPC 2.0 messages as MCP carries them (one message per HTTP POST body
// or per stdio line; batches are refused, as MCP 2025-06-18 and later do).
//
// parse_message is strict and bounded: at most kMaxMessageBytes of text,
// nesting at most kMaxDepth, no repeated member names (two parsers must not
// disagree on which `method` counts), `jsonrpc` exactly "2.0", an id that is
// a string or an integer, params an object when present. Error codes:
//   jsonrpc_parse    not JSON, too deep, too large, a repeated key
//   jsonrpc_invalid  JSON but not a JSON-RPC 2.0 message (the message says why)
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.h"

namespace ztgate::mcp {

inline constexpr size_t kMaxMessageBytes = size_t{4} << 20;
inline constexpr int kMaxDepth = 64;
inline constexpr size_t kMaxMethodBytes = 256;

// JSON-RPC error codes (the standard ones, and the gateway's own in the
// implementation-defined range). Every gateway error also carries
// data.ztgate = {code, request_id}: ztgate's stable error code.
inline constexpr int kParseError = -32700;
inline constexpr int kInvalidRequest = -32600;
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;
inline constexpr int kInternalError = -32603;
inline constexpr int kForbidden = -32001;           // a policy denied it
inline constexpr int kUpstreamFailed = -32002;      // the tool server failed or timed out
inline constexpr int kToolBlocked = -32003;         // a pinned definition changed: awaiting approval

enum class MessageKind { kRequest, kNotification, kResult, kError };

struct Message {
  MessageKind kind = MessageKind::kRequest;
  boost::json::value id;       // requests and responses: string or integer (null for an error without id)
  std::string method;          // requests and notifications
  boost::json::object params;  // requests and notifications (empty when absent)
  boost::json::value result;   // kResult
  boost::json::object error;   // kError: {code, message, data?}
};

Result<Message> parse_message(std::string_view text);

// Serialized responses.
std::string result_response(const boost::json::value& id, const boost::json::value& result);
std::string error_response(const boost::json::value& id, int code, std::string_view message,
                           const boost::json::object& data = {});
// A serialized request (id given) or notification (id null).
std::string request_text(const boost::json::value& id, std::string_view method, const boost::json::object& params);

// The id as a short printable string for logs and records ("7", "\"abc\"").
std::string id_text(const boost::json::value& id);

}  // namespace ztgate::mcp
