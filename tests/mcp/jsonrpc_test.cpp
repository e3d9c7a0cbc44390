// JSON-RPC 2.0 messages as MCP carries them: the four kinds parse; batches,
// non-objects, other versions, ids that are neither strings nor integers,
// null request ids, non-object params, repeated keys, deep or large texts
// and responses with both result and error are refused; the serializers
// round-trip through the parser.
#include "mcp/jsonrpc.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <string>

namespace ztgate::mcp {
namespace {

namespace json = boost::json;

Message parsed(std::string_view text) {
  auto m = parse_message(text);
  EXPECT_TRUE(m) << text << ": " << m.error().code << ": " << m.error().message;
  return m ? std::move(*m) : Message{};
}

std::string refusal(std::string_view text) {
  auto m = parse_message(text);
  EXPECT_FALSE(m) << text;
  return m ? std::string("(accepted)") : m.error().code;
}

TEST(JsonRpcParse, ARequestWithIntegerOrStringId) {
  Message m = parsed(R"({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"x","arguments":{"a":1}}})");
  EXPECT_EQ(m.kind, MessageKind::kRequest);
  EXPECT_EQ(m.id, json::value(7));
  EXPECT_EQ(m.method, "tools/call");
  EXPECT_EQ(m.params.at("name"), "x");
  EXPECT_EQ(m.params.at("arguments").at("a"), 1);

  m = parsed(R"({"jsonrpc":"2.0","id":"req-1","method":"tools/list"})");
  EXPECT_EQ(m.kind, MessageKind::kRequest);
  EXPECT_EQ(m.id, json::value("req-1"));
  EXPECT_TRUE(m.params.empty());

  m = parsed(R"({"jsonrpc":"2.0","id":18446744073709551615,"method":"ping"})");  // uint64
  EXPECT_EQ(m.kind, MessageKind::kRequest);
  EXPECT_TRUE(m.id.is_uint64());
  m = parsed(R"({"jsonrpc":"2.0","id":-3,"method":"ping"})");
  EXPECT_EQ(m.id, json::value(-3));
}

TEST(JsonRpcParse, ANotificationHasNoId) {
  Message m = parsed(R"({"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":1}})");
  EXPECT_EQ(m.kind, MessageKind::kNotification);
  EXPECT_TRUE(m.id.is_null());
  EXPECT_EQ(m.method, "notifications/progress");
  EXPECT_EQ(m.params.at("progress"), 1);
}

TEST(JsonRpcParse, AResultAndAnError) {
  Message m = parsed(R"({"jsonrpc":"2.0","id":3,"result":{"tools":[]}})");
  EXPECT_EQ(m.kind, MessageKind::kResult);
  EXPECT_EQ(m.id, json::value(3));
  EXPECT_EQ(m.result, json::parse(R"({"tools":[]})"));
  EXPECT_TRUE(m.method.empty());

  m = parsed(R"({"jsonrpc":"2.0","id":"a","result":null})");  // any JSON value is a result
  EXPECT_EQ(m.kind, MessageKind::kResult);
  EXPECT_TRUE(m.result.is_null());

  m = parsed(R"({"jsonrpc":"2.0","id":4,"error":{"code":-32601,"message":"no","data":{"x":1}}})");
  EXPECT_EQ(m.kind, MessageKind::kError);
  EXPECT_EQ(m.error.at("code"), -32601);
  EXPECT_EQ(m.error.at("message"), "no");
  EXPECT_EQ(m.error.at("data").at("x"), 1);

  // An error about a message whose id could not be read carries a null id.
  m = parsed(R"({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}})");
  EXPECT_EQ(m.kind, MessageKind::kError);
  EXPECT_TRUE(m.id.is_null());
}

TEST(JsonRpcParse, RefusesBatchesAndNonObjects) {
  EXPECT_EQ(refusal(R"([{"jsonrpc":"2.0","id":1,"method":"ping"}])"), "jsonrpc_invalid");
  EXPECT_EQ(refusal(R"([])"), "jsonrpc_invalid");
  EXPECT_EQ(refusal(R"("jsonrpc")"), "jsonrpc_invalid");
  EXPECT_EQ(refusal("42"), "jsonrpc_invalid");
  EXPECT_EQ(refusal("null"), "jsonrpc_invalid");
  EXPECT_EQ(refusal(""), "jsonrpc_parse");
  EXPECT_EQ(refusal("{"), "jsonrpc_parse");
  EXPECT_EQ(refusal(R"({"jsonrpc":"2.0","id":1,"method":"ping"} trailing)"), "jsonrpc_parse");
}

TEST(JsonRpcParse, RefusesAnyOtherVersion) {
  EXPECT_EQ(refusal(R"({"id":1,"method":"ping"})"), "jsonrpc_invalid");
  EXPECT_EQ(refusal(R"({"jsonrpc":"1.0","id":1,"method":"ping"})"), "jsonrpc_invalid");
  EXPECT_EQ(refusal(R"({"jsonrpc":2.0,"id":1,"method":"ping"})"), "jsonrpc_invalid");
  EXPECT_EQ(refusal(R"({"jsonrpc":"2.0 ","id":1,"method":"ping"})"), "jsonrpc_invalid");
}

TEST(JsonRpcParse, RefusesIdsThatAreNotStringsOrIntegers) {
  EXPECT_EQ(refusal(R"({"jsonrpc":"2.0","id":1.5,"method":"ping"})"), "jsonrpc_invalid");
  EXPECT_EQ(refusal(R"({"jsonrpc":"2.0","id":1e3,"method":"ping"})"), "jsonrpc_invalid");
  EXPECT_EQ(refusal(R"({"jsonrpc":"2.0","id":true,"method":"ping"})"), "jsonrpc_invalid");
  EXPECT_EQ(refusal(R"({"jsonrpc":"2.0","id":{"a":1},"method":"ping"})"), "jsonrpc_invalid");
  EXPECT_EQ(refusal(R"({"jsonrpc":"2.0","id":[1],"method":"ping"})"), "jsonrpc_invalid");
  EXPECT_EQ(refusal(R"({"jsonrpc":"2.0","id":1.5,"result":{}})"), "jsonrpc_invalid");
  EXPECT_EQ(refusal(R"({"jsonrpc":"2.0","id":false,"error":{"code":1,"message":"m"}})"), "jsonrpc_invalid");
  // An id string is bounded like a method name.
  std::string long_id(kMaxMethodBytes + 1, 'i');
  EXPECT_EQ(refusal(R"({"jsonrpc":"2.0","id":")" + long_id + R"(","method":"ping"})"), "jsonrpc_invalid");
}

TEST(JsonRpcParse, RefusesANullRequestId) {
  EXPECT_EQ(refusal(R"({"jsonrpc":"2.0","id":null,"method":"tools/call"})"), "jsonrpc_invalid");
}

TEST(JsonRpcParse, RefusesBadMethodsAndParams) {
  EXPECT_EQ(refusal(R"({"jsonrpc":"2.0","id":1,"method":"ping","params":[1,2]})"), "jsonrpc_invalid");
  EXPECT_EQ(refusal(R"({"jsonrpc":"2.0","id":1,"method":"ping","params":"x"})"), "jsonrpc_invalid");
  EXPECT_EQ(refusal(R"({"jsonrpc":"2.0","id":1,"method":"ping","params":null})"), "jsonrpc_invalid");
  EXPECT_EQ(refusal(R"({"jsonrpc":"2.0","method":"n","params":[]})"), "jsonrpc_invalid");
  EXPECT_EQ(refusal(R"({"jsonrpc":"2.0","id":1,"method":""})"), "jsonrpc_invalid");
  EXPECT_EQ(refusal(R"({"jsonrpc":"2.0","id":1,"method":7})"), "jsonrpc_invalid");
  std::string long_method(kMaxMethodBytes + 1, 'm');
  EXPECT_EQ(refusal(R"({"jsonrpc":"2.0","id":1,"method":")" + long_method + R"("})"), "jsonrpc_invalid");
  std::string max_method(kMaxMethodBytes, 'm');
  EXPECT_EQ(parsed(R"({"jsonrpc":"2.0","id":1,"method":")" + max_method + R"("})").method, max_method);
}

TEST(JsonRpcParse, RefusesRepeatedKeysAtAnyLevel) {
  EXPECT_EQ(refusal(R"({"jsonrpc":"2.0","id":1,"method":"a","method":"b"})"), "jsonrpc_parse");
  EXPECT_EQ(refusal(R"({"jsonrpc":"2.0","jsonrpc":"2.0","id":1,"method":"a"})"), "jsonrpc_parse");
  EXPECT_EQ(refusal(R"({"jsonrpc":"2.0","id":1,"id":2,"method":"a"})"), "jsonrpc_parse");
  EXPECT_EQ(refusal(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","name":"b"}})"),
            "jsonrpc_parse");
  EXPECT_EQ(refusal(R"({"jsonrpc":"2.0","id":1,"method":"m","params":{"a":[{"k":1,"k":2}]}})"), "jsonrpc_parse");
  // The refusal names the key, printably.
  auto m = parse_message(R"({"jsonrpc":"2.0","id":1,"method":"a","method":"b"})");
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message.find("method"), std::string::npos);
}

TEST(JsonRpcParse, RefusesTooDeepNesting) {
  auto nested = [](int depth) {
    std::string params(static_cast<size_t>(depth), '[');
    params += std::string(static_cast<size_t>(depth), ']');
    return R"({"jsonrpc":"2.0","id":1,"method":"m","params":{"x":)" + params + "}}";
  };
  EXPECT_TRUE(parse_message(nested(10)));
  EXPECT_EQ(refusal(nested(kMaxDepth + 5)), "jsonrpc_parse");
  EXPECT_EQ(refusal(nested(100'000)), "jsonrpc_parse");  // no stack exhaustion
}

TEST(JsonRpcParse, RefusesTooLargeMessages) {
  std::string prefix = R"({"jsonrpc":"2.0","id":1,"method":"m","params":{"x":")";
  std::string suffix = R"("}})";
  std::string fits(kMaxMessageBytes - prefix.size() - suffix.size(), 'a');
  EXPECT_TRUE(parse_message(prefix + fits + suffix));
  EXPECT_EQ(refusal(prefix + fits + "a" + suffix), "jsonrpc_parse");
}

TEST(JsonRpcParse, RefusesResponsesWithBothOrNeitherOrABadError) {
  EXPECT_EQ(refusal(R"({"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":"m"}})"),
            "jsonrpc_invalid");
  EXPECT_EQ(refusal(R"({"jsonrpc":"2.0","id":1})"), "jsonrpc_invalid");
  EXPECT_EQ(refusal(R"({"jsonrpc":"2.0","result":{}})"), "jsonrpc_invalid");  // a response needs an id
  EXPECT_EQ(refusal(R"({"jsonrpc":"2.0","id":1,"method":"m","result":{}})"), "jsonrpc_invalid");
  EXPECT_EQ(refusal(R"({"jsonrpc":"2.0","id":1,"method":"m","error":{"code":1,"message":"m"}})"),
            "jsonrpc_invalid");
  EXPECT_EQ(refusal(R"({"jsonrpc":"2.0","id":1,"error":"boom"})"), "jsonrpc_invalid");
  EXPECT_EQ(refusal(R"({"jsonrpc":"2.0","id":1,"error":{"message":"m"}})"), "jsonrpc_invalid");
  EXPECT_EQ(refusal(R"({"jsonrpc":"2.0","id":1,"error":{"code":1.5,"message":"m"}})"), "jsonrpc_invalid");
  EXPECT_EQ(refusal(R"({"jsonrpc":"2.0","id":1,"error":{"code":1,"message":2}})"), "jsonrpc_invalid");
}

TEST(JsonRpcSerialize, ResultResponseRoundTrips) {
  json::value result = json::parse(R"({"content":[{"type":"text","text":"hi \"there\"\n"}],"isError":false})");
  for (const json::value& id : {json::value(5), json::value("abc"), json::value(-1)}) {
    Message m = parsed(result_response(id, result));
    EXPECT_EQ(m.kind, MessageKind::kResult);
    EXPECT_EQ(m.id, id);
    EXPECT_EQ(m.result, result);
  }
}

TEST(JsonRpcSerialize, ErrorResponseRoundTrips) {
  json::object data{{"ztgate", json::object{{"code", "policy_denied"}, {"request_id", "r-1"}}}};
  Message m = parsed(error_response(json::value("q"), kForbidden, "denied by policy", data));
  EXPECT_EQ(m.kind, MessageKind::kError);
  EXPECT_EQ(m.id, json::value("q"));
  EXPECT_EQ(m.error.at("code"), kForbidden);
  EXPECT_EQ(m.error.at("message"), "denied by policy");
  EXPECT_EQ(m.error.at("data"), json::value(data));

  // Without data there is no data member; a null id stays null.
  m = parsed(error_response(nullptr, kParseError, "bad"));
  EXPECT_EQ(m.kind, MessageKind::kError);
  EXPECT_TRUE(m.id.is_null());
  EXPECT_FALSE(m.error.contains("data"));
}

TEST(JsonRpcSerialize, RequestTextRoundTrips) {
  json::object params{{"name", "docs__search"}, {"arguments", json::object{{"q", "a\u00e9\"b"}}}};
  Message m = parsed(request_text(json::value(42), "tools/call", params));
  EXPECT_EQ(m.kind, MessageKind::kRequest);
  EXPECT_EQ(m.id, json::value(42));
  EXPECT_EQ(m.method, "tools/call");
  EXPECT_EQ(m.params, params);

  m = parsed(request_text(json::value("s-1"), "tools/list", {}));
  EXPECT_EQ(m.id, json::value("s-1"));
  EXPECT_TRUE(m.params.empty());
  EXPECT_EQ(json::parse(request_text(json::value("s-1"), "tools/list", {})).as_object().count("params"), 0u);

  // A null id makes a notification.
  m = parsed(request_text(nullptr, "notifications/initialized", {}));
  EXPECT_EQ(m.kind, MessageKind::kNotification);
  EXPECT_EQ(m.method, "notifications/initialized");
  EXPECT_FALSE(json::parse(request_text(nullptr, "n", {})).as_object().contains("id"));
}

TEST(JsonRpcSerialize, IdText) {
  EXPECT_EQ(id_text(json::value(7)), "7");
  EXPECT_EQ(id_text(json::value("abc")), "\"abc\"");
  EXPECT_EQ(id_text(nullptr), "null");
}

}  // namespace
}  // namespace ztgate::mcp
