// The issuers the npm jose peer (node/delegation_peer.mjs `setup`) signs
// for, as ztgate.yaml's identity.issuers items: users (corp) and agents.
// Its `setup` writes the JWKS files into the work directory beside the config.
#pragma once

namespace ztgate::itest {

inline constexpr const char* kPeerIssuers = R"(    - id: corp
      issuer: https://idp.test
      audience: ztgate-api
      jwks_file: users.jwks.json
      algorithms: [ES256]
    - id: agents
      issuer: https://agents.test
      audience: ztgate
      jwks_file: agents.jwks.json
      claims: { user_type: Agent }
)";

}  // namespace ztgate::itest
