#include "common/json_keys.h"

#include <cmath>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value_stack.hpp>

#include <memory>

#include <set>
#include <string>
#include <vector>

namespace ztgate {
namespace {

namespace json = boost::json;

// The member names of each open object, for finding repeats. Names live in
// one string (an object's names are contiguous, at its end); small objects
// are searched linearly, larger ones get a set, so a huge object stays
// O(n log n). No allocation per name once the buffers have grown.
class OpenObjectKeys {
 public:
  void begin_object() { open_.push_back(Object{names_.size(), 0, nullptr}); }
  void end_object() {
    names_.resize(open_.back().first);
    offsets_.resize(offsets_.size() - open_.back().count);
    open_.pop_back();
  }
  // Adds `name` (complete) to the innermost object; false when it is there already.
  bool add(std::string_view name) {
    Object& o = open_.back();
    if (o.big) return o.big->insert(std::string(name)).second;
    size_t start = offsets_.size() - o.count;
    for (size_t i = start; i < offsets_.size(); ++i) {
      size_t from = offsets_[i], to = i + 1 < offsets_.size() ? offsets_[i + 1] : names_.size();
      if (std::string_view(names_).substr(from, to - from) == name) return false;
    }
    if (o.count == kLinearMax) {
      o.big = std::make_unique<std::set<std::string, std::less<>>>();
      for (size_t i = start; i < offsets_.size(); ++i) {
        size_t to = i + 1 < offsets_.size() ? offsets_[i + 1] : names_.size();
        o.big->insert(names_.substr(offsets_[i], to - offsets_[i]));
      }
      return o.big->insert(std::string(name)).second;
    }
    offsets_.push_back(names_.size());
    names_.append(name);
    ++o.count;
    return true;
  }

 private:
  static constexpr size_t kLinearMax = 16;
  struct Object {
    size_t first;  // where its names start in names_
    size_t count;  // names in names_/offsets_ (while not `big`)
    std::unique_ptr<std::set<std::string, std::less<>>> big;
  };
  std::vector<Object> open_;
  std::string names_;
  std::vector<size_t> offsets_;
};

// A basic_parser handler that only tracks the keys of each open object.
struct KeyTracker {
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  OpenObjectKeys open;
  std::string key;
  std::optional<std::string> duplicate;  // a set optional, since "" is a valid name

  bool on_document_begin(boost::system::error_code&) { return true; }
  bool on_document_end(boost::system::error_code&) { return true; }
  bool on_object_begin(boost::system::error_code&) {
    open.begin_object();
    return true;
  }
  bool on_object_end(std::size_t, boost::system::error_code&) {
    open.end_object();
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
    if (!open.add(key)) {
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

// Boost.JSON's own DOM-building handler (json::parser's) plus the key
// tracking above: one pass builds the value and finds the first repeat,
// which does not stop the parse (a syntax error later in the text is still
// reported as such, as with the two separate passes).
struct CheckingBuilder {
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();

  CheckingBuilder(unsigned char* temp, std::size_t size) : st(json::storage_ptr(), temp, size) {}

  json::value_stack st;
  OpenObjectKeys open;
  std::string key;
  std::optional<std::string> duplicate;

  bool on_document_begin(boost::system::error_code&) { return true; }
  bool on_document_end(boost::system::error_code&) { return true; }
  bool on_object_begin(boost::system::error_code&) {
    open.begin_object();
    return true;
  }
  bool on_object_end(std::size_t n, boost::system::error_code&) {
    open.end_object();
    st.push_object(n);
    return true;
  }
  bool on_array_begin(boost::system::error_code&) { return true; }
  bool on_array_end(std::size_t n, boost::system::error_code&) {
    st.push_array(n);
    return true;
  }
  bool on_key_part(json::string_view s, std::size_t, boost::system::error_code&) {
    st.push_chars(s);
    key.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t, boost::system::error_code&) {
    st.push_key(s);
    key.append(s.data(), s.size());
    if (!open.add(key) && !duplicate) duplicate = key;
    key.clear();
    return true;
  }
  bool on_string_part(json::string_view s, std::size_t, boost::system::error_code&) {
    st.push_chars(s);
    return true;
  }
  bool on_string(json::string_view s, std::size_t, boost::system::error_code&) {
    st.push_string(s);
    return true;
  }
  bool on_number_part(json::string_view, boost::system::error_code&) { return true; }
  bool on_int64(std::int64_t i, json::string_view, boost::system::error_code&) {
    st.push_int64(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, json::string_view, boost::system::error_code&) {
    st.push_uint64(u);
    return true;
  }
  bool on_double(double d, json::string_view, boost::system::error_code& ec) {
    // 1e400 parses to infinity, which serializes as `Infinity`: not JSON.
    // Refuse it rather than pass on text another parser cannot read.
    if (!std::isfinite(d)) {
      ec = json::error::exponent_overflow;
      return false;
    }
    st.push_double(d);
    return true;
  }
  bool on_bool(bool b, boost::system::error_code&) {
    st.push_bool(b);
    return true;
  }
  bool on_null(boost::system::error_code&) {
    st.push_null();
    return true;
  }
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

json::value parse_json_checking_keys(std::string_view text, int max_depth, boost::system::error_code& ec,
                                     std::optional<std::string>& duplicate) {
  json::parse_options opt;
  opt.max_depth = static_cast<std::size_t>(max_depth > 0 ? max_depth : 1);
  unsigned char temp[BOOST_JSON_STACK_BUFFER_SIZE];
  json::basic_parser<CheckingBuilder> parser(opt, temp, sizeof temp);
  parser.handler().st.reset(json::storage_ptr());
  std::size_t n = parser.write_some(false, text.data(), text.size(), ec);
  if (!ec && n < text.size()) ec = json::error::extra_data;
  if (ec) return nullptr;
  duplicate = std::move(parser.handler().duplicate);
  return parser.handler().st.release();
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
