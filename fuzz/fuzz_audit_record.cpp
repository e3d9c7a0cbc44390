// Fuzz target: reading audit records back (src/audit): unseal() of a sealed
// record, parse_checkpoint_line(), and the chain verifier over any lines —
// what `ztgate audit verify` runs on files an attacker may have written.
//
// Properties, for any input:
//   1. Nothing crashes, hangs, leaks or hits undefined behavior.
//   2. A record that unseals with fingerprint_ok has a non-zero seq.
//   3. Sealing any JSON object the producer could write (finite numbers
//      only: the OCSF writer turns NaN and infinities into null, and
//      Boost.JSON would serialize them as bare Infinity) gives a record
//      that unseals to the same seq
//      and fingerprint, with fingerprint_ok; changing one byte of the event
//      part never keeps it ok with the same seq.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include <boost/json.hpp>

#include "audit/chain.h"
#include "audit/checkpoint.h"
#include "audit/verify.h"
#include "property.h"

namespace {

// No NaN or infinity anywhere in `v` (a number too large for a double
// parses as infinity).
bool all_finite(const boost::json::value& v) {
  if (v.is_double()) return std::isfinite(v.get_double());
  if (v.is_array())
    for (const auto& e : v.get_array())
      if (!all_finite(e)) return false;
  if (v.is_object())
    for (const auto& m : v.get_object())
      if (!all_finite(m.value())) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using ztgate::fuzz::require;
  namespace audit = ztgate::audit;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto u = audit::unseal(text); u && u->fingerprint_ok) require(u->seq > 0, "sealed records have a seq", "");
  (void)audit::parse_checkpoint_line(text);

  // The verifier over the input's lines, as a file would give them.
  audit::ChainVerifier v("", std::nullopt, audit::ChainHead{});
  size_t start = 0;
  for (int lines = 0; start <= text.size() && lines < 64; ++lines) {
    size_t nl = text.find('\n', start);
    std::string_view line = text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    if (line.rfind("{\"checkpoint\":", 0) == 0) {
      if (auto c = audit::parse_checkpoint_line(line)) v.checkpoint(*c);
    } else if (!line.empty()) {
      v.record(0, line);
    }
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  auto report = v.finish();
  require(report.problems.size() <= audit::kMaxProblems, "problems are bounded", "");

  // Round trip: any JSON object the producer could hand over.
  boost::system::error_code ec;
  auto doc = boost::json::parse(text, ec);
  if (!ec && doc.is_object() && !doc.as_object().contains("attestation") && all_finite(doc)) {
    std::string event = boost::json::serialize(doc);
    auto prev = audit::sha256("prev");
    auto sealed = audit::seal(event, 7, prev, "chain", "key");
    auto u = audit::unseal(sealed.text);
    require(u.ok(), "a sealed record unseals", sealed.text);
    require(u->fingerprint_ok && u->seq == 7 && u->fingerprint == sealed.fingerprint, "round trip", sealed.text);
    if (event.size() > 2) {
      std::string changed = sealed.text;
      size_t at = 1 + (size % (event.size() - 2));
      changed[at] = static_cast<char>(changed[at] ^ 0x01);
      auto c = audit::unseal(changed);
      require(!c || !c->fingerprint_ok || c->seq != 7, "a changed byte is caught", changed);
    }
  }
  return 0;
}
