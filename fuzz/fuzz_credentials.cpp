// Fuzz target: service credentials (src/authn): SPIFFE ID parsing, API key
// token parsing, PEM/DER certificate parsing and SAN extraction.
//
// Properties checked, for any input:
//   1. The parsers return a value or an error; they never crash, hang, leak
//      or hit undefined behavior.
//   2. Any SPIFFE ID that parses re-serializes to the identical string (so
//      comparing IDs as text is sound), also when it came from a certificate.
//   3. Any API key that parses re-formats to the identical string (one
//      accepted spelling per key).
//   4. A mapped principal's id is exactly the path after the rule's prefix.
//
// Input: any bytes; every interpretation runs on every input (seeds in
// fuzz/corpus/fuzz_credentials/: SPIFFE IDs, API keys, PEM and DER certificates).
#include <openssl/x509.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "authn/api_keys.h"
#include "authn/spiffe_id.h"
#include "authn/x509_identity.h"
#include "property.h"

namespace {

using namespace ztgate::authn;
using ztgate::fuzz::require;

const std::vector<SpiffeMappingRule>& rules() {
  static const std::vector<SpiffeMappingRule> r = {
      {"example.org", "/ns/prod/sa", "Service"}, {"example.org", "/agents", "Agent"}, {"td", "", "Service"}};
  return r;
}

void check_spiffe_id(const SpiffeId& id, std::string_view source) {
  std::string text = id.to_string();
  auto again = parse_spiffe_id(text);
  require(again.ok() && *again == id, "a parsed SPIFFE ID re-parses to itself", text);
  if (source.data() != nullptr) require(text == source, "a parsed SPIFFE ID re-serializes identically", text);
  auto principal = map_spiffe_id(id, rules());
  if (!principal) return;
  bool rebuilt = false;
  for (const auto& rule : rules())
    if (rule.trust_domain == id.trust_domain && rule.principal_type == principal->type &&
        rule.path_prefix + "/" + principal->id == id.path)
      rebuilt = true;
  require(rebuilt && !principal->id.empty(), "a mapped id is the path after a rule's prefix", text);
}

void check_certificate(X509* cert) {
  auto id = spiffe_id_of(cert);
  if (id) check_spiffe_id(*id, {});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);

  if (auto id = parse_spiffe_id(input)) check_spiffe_id(*id, input);

  if (auto key = parse_api_key(input))
    require(key->to_string() == input, "a parsed API key re-formats identically", std::string(input));
  (void)parse_service_principal(input);

  if (auto certs = parse_pem_certificates(input, kMaxPemCertificates))
    for (auto& cert : *certs) check_certificate(cert.get());

  const unsigned char* der = data;
  if (X509* cert = d2i_X509(nullptr, &der, static_cast<long>(size))) {
    check_certificate(cert);
    X509_free(cert);
  }
  return 0;
}
