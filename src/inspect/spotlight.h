// Spotlighting (Hines et al., "Defending Against Indirect Prompt Injection
// Attacks With Spotlighting", 2024): untrusted content passed on to a model
// is marked so the model can tell data from instructions.
//
//   delimit   the text between an opening and a closing marker that carry a
//             random nonce: «untrusted-data nonce=…»…«/untrusted-data nonce=…».
//             A document cannot close the block early, since it cannot know
//             the nonce; guillemet markers already in the text are escaped.
//   datamark  the same block, and inside it every run of whitespace becomes
//             the mark U+02C6 (ˆ), so instructions hidden in the data read
//             as one marked-up token stream, not as prose addressed to the
//             model. The opening line tells the model what the marks mean.
//
// The nonce must come from a CSPRNG per response (new_spotlight_nonce()).
#pragma once

#include <string>
#include <string_view>

namespace ztgate::inspect {

enum class SpotlightMode { delimit, datamark };

// "delimit" / "datamark"; false for anything else.
bool parse_spotlight_mode(std::string_view name, SpotlightMode& out);

// 16 hex characters from the OpenSSL CSPRNG.
std::string new_spotlight_nonce();

// `text` wrapped (and for datamark, marked). `source` names where it came
// from in the opening line ("tool docs__search"); keep it short.
std::string spotlight(std::string_view text, SpotlightMode mode, std::string_view nonce, std::string_view source);

}  // namespace ztgate::inspect
