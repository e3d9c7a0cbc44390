#include "common/json_keys.h"

#include <boost/json/basic_parser_impl.hpp>

#include <set>
#include <string>
#include <vector>

namespace ztgate {
namespace {

namespace json = boost::json;

// A basic_parser handler that only tracks the keys of each open object.
struct KeyTracker {
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  std::vector<std::set<std::string, std::less<>>> open;  // one per open object
  std::string key;
  std::optional<std::string> duplicate;  // a set optional, since "" is a valid name

  bool on_document_begin(boost::system::error_code&) { return true; }
  bool on_document_end(boost::system::error_code&) { return true; }
  bool on_object_begin(boost::system::error_code&) {
    open.emplace_back();
    return true;
  }
  bool on_object_end(std::size_t, boost::system::error_code&) {
    open.pop_back();
    return true;
  }
  bool on_array_begin(boost::system::error_code&) { return true; }
  bool on_array_end(std::size_t, boost::system::error_code&) { return true; }
  bool on_key_part(json::string_view s, std::size_t, boost::system::error_code&) {
    key.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t, boost::system::error_code& ec) {
    key.append(s.data(), s.size());
    if (!open.back().insert(key).second) {
      duplicate = key;
      ec = json::error::syntax;  // stops the parse; the caller reports `duplicate`
      return false;
    }
    key.clear();
    return true;
  }
  bool on_string_part(json::string_view, std::size_t, boost::system::error_code&) { return true; }
  bool on_string(json::string_view, std::size_t, boost::system::error_code&) { return true; }
  bool on_number_part(json::string_view, boost::system::error_code&) { return true; }
  bool on_int64(std::int64_t, json::string_view, boost::system::error_code&) { return true; }
  bool on_uint64(std::uint64_t, json::string_view, boost::system::error_code&) { return true; }
  bool on_double(double, json::string_view, boost::system::error_code&) { return true; }
  bool on_bool(bool, boost::system::error_code&) { return true; }
  bool on_null(boost::system::error_code&) { return true; }
  bool on_comment_part(json::string_view, boost::system::error_code&) { return true; }
  bool on_comment(json::string_view, boost::system::error_code&) { return true; }
};

}  // namespace

std::optional<std::string> find_duplicate_key(std::string_view text, int max_depth) {
  json::parse_options opt;
  opt.max_depth = static_cast<std::size_t>(max_depth > 0 ? max_depth : 1);
  json::basic_parser<KeyTracker> parser(opt);
  boost::system::error_code ec;
  parser.write_some(false, text.data(), text.size(), ec);
  return std::move(parser.handler().duplicate);
}

std::string printable_key(std::string_view name) {
  constexpr std::size_t kMaxShown = 64;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char c : name.substr(0, kMaxShown)) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte >= 0x7f || c == '`' || c == '\\') {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else {
      out += c;
    }
  }
  if (name.size() > kMaxShown) out += "...";
  return out;
}

Status reject_duplicate_keys(std::string_view text, int max_depth, std::string_view code) {
  if (auto dup = find_duplicate_key(text, max_depth))
    return make_error(std::string(code), "duplicate key `" + printable_key(*dup) + "` in a JSON object");
  return Ok{};
}

}  // namespace ztgate
