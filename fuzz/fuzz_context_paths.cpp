// Fuzz target: context path analysis for the decision cache (src/pipeline).
//
// Properties checked, for any input:
//   1. Parsing, context_paths, canonical_context and restrict_context never
//      crash, hang, leak or hit undefined behavior.
//   2. The analysis never misses a read: evaluating the policy set with a
//      context and with that context cut down to the computed paths gives the
//      same decision, determining policies and erroring policies. A violation
//      would mean the cache could serve a decision made for other inputs.
//   3. The cut-down context has the same canonical form (cache key) as the
//      full one.
//
// Input: Cedar policy text, then a line "---", then bytes that drive a small
// context generator (records up to depth 3, names from a fixed vocabulary
// plus every attribute the policies read). Seeds in fuzz/corpus/fuzz_context_paths/.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cedar/authorizer.h"
#include "pipeline/context_paths.h"
#include "property.h"

namespace {

using namespace ztgate;
using ztgate::fuzz::require;

class ByteSource {
 public:
  explicit ByteSource(std::string_view bytes) : bytes_(bytes) {}
  uint8_t next() { return pos_ < bytes_.size() ? static_cast<uint8_t>(bytes_[pos_++]) : 0; }
  bool empty() const { return pos_ >= bytes_.size(); }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

class ContextGenerator {
 public:
  ContextGenerator(std::string_view bytes, const pipeline::ContextPaths& paths) : in_(bytes) {
    names_ = {"a", "b", "mfa", "risk", "x"};
    for (const auto& p : paths.paths)
      for (const auto& attr : p.attrs) names_.push_back(attr);
  }

  cedar::ValueRecord record(int depth) {
    cedar::ValueRecord out;
    size_t fields = in_.next() % 5;
    for (size_t i = 0; i < fields && !in_.empty(); ++i)
      out.insert_or_assign(names_[in_.next() % names_.size()], value(depth));
    return out;
  }

 private:
  cedar::Value value(int depth) {
    uint8_t tag = in_.next();
    switch (tag % 7) {
      case 0: return cedar::Value(bool(tag & 8));
      case 1: return cedar::Value(int64_t{static_cast<int8_t>(in_.next())});
      case 2: return cedar::Value(names_[in_.next() % names_.size()]);
      case 3: return cedar::Value(cedar::EntityUID{"User", (tag & 8) ? "alice" : "bob"});
      case 4: return cedar::Value::set({cedar::Value(int64_t{in_.next() % 3}), cedar::Value("a")});
      default:
        if (depth >= 3) return cedar::Value(int64_t{tag});
        return cedar::Value::record(record(depth + 1));
    }
  }

  ByteSource in_;
  std::vector<std::string> names_;
};

const cedar::Entities& entities() {
  static const cedar::Entities store = [] {
    std::vector<cedar::Entity> list;
    list.push_back({{"User", "alice"}, {{"level", int64_t{3}}, {"name", "alice"}}, {}, {{"Group", "admins"}}, {}});
    list.push_back({{"Doc", "d"}, {{"owner", cedar::EntityUID{"User", "alice"}}}, {}, {}, {}});
    return std::move(*cedar::Entities::build(std::move(list)));
  }();
  return store;
}

std::vector<std::string> error_ids(const cedar::Response& r) {
  std::vector<std::string> ids;
  for (const auto& e : r.errors) ids.push_back(e.policy_id);
  return ids;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  auto parts = ztgate::fuzz::split_parts(std::string_view(reinterpret_cast<const char*>(data), size),
                                         "\n---\n", 2);
  auto parsed = cedar::parse_policies(parts[0]);
  if (!parsed) return 0;
  auto set = std::make_shared<const cedar::PolicySet>(std::move(*parsed));
  const auto paths = pipeline::context_paths(*set);

  ContextGenerator gen(parts.size() > 1 ? parts[1] : std::string_view{}, paths);
  auto full = std::make_shared<const cedar::ValueRecord>(gen.record(0));
  auto cut = pipeline::restrict_context(full, paths);
  require(pipeline::canonical_context(full, paths) == pipeline::canonical_context(cut, paths),
          "restricted context has another cache key", parts[0]);

  cedar::Authorizer authz(set);
  cedar::Request request{{"User", "alice"}, {"Action", "read"}, {"Doc", "d"}, full};
  auto a = authz.is_authorized(request, entities());
  request.context = cut;
  auto b = authz.is_authorized(request, entities());
  std::string detail = std::string(parts[0]) + "\ncontext: " +
                       cedar::to_cedar_string(cedar::Value(full)) +
                       "\nrestricted: " + cedar::to_cedar_string(cedar::Value(cut));
  require(a.decision == b.decision, "decision depends on a context field the analysis missed", detail);
  require(a.determining == b.determining, "determining policies changed with the restricted context",
          detail);
  require(error_ids(a) == error_ids(b), "erroring policies changed with the restricted context", detail);
  return 0;
}
