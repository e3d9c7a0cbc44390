// Check digits and format rules of the identifiers DLP looks for. Each takes
// the value as written (separators: spaces and dashes, where the format has
// them) and says whether it is well-formed and its checksum holds. Pure.
#pragma once

#include <string_view>

namespace ztgate::inspect::internal {

// Payment card: 13-19 digits, Luhn, and a known issuer prefix (IIN) with a
// length that issuer uses (Visa, Mastercard, Amex, Discover, JCB, Diners,
// UnionPay, Maestro).
bool valid_payment_card(std::string_view value);
bool luhn(std::string_view digits);  // digits only

// IBAN: country code, the country's length (ISO 13616 registry), mod 97 = 1.
bool valid_iban(std::string_view value);

// US SSN ddd-dd-dddd: area not 000, 666 or 9xx; group not 00; serial not
// 0000; not the famous advertising numbers (078-05-1120, 219-09-9999).
bool valid_ssn_us(std::string_view value);
// UK National Insurance number: two prefix letters (not D F I Q U V; second
// not O; not BG GB KN NK NT TN ZZ), six digits, suffix A-D.
bool valid_nino_uk(std::string_view value);
// Spanish DNI (8 digits + letter) and NIE (X/Y/Z + 7 digits + letter):
// the letter is TRWAGMYFPDXBNJZSQVHLCKE[number mod 23].
bool valid_dni_es(std::string_view value);
// French NIR (numéro de sécurité sociale): 13 digits (Corsica 2A/2B) and a
// 2-digit key = 97 - (number mod 97); sex 1/2, month 01-12 or 20-99.
bool valid_nir_fr(std::string_view value);
// German Steuer-ID: 11 digits, no leading 0, in the first ten one digit
// appears two or three times and at most one digit is missing... (BZSt
// rules), check digit by ISO 7064 MOD 11,10.
bool valid_steuer_id_de(std::string_view value);

}  // namespace ztgate::inspect::internal
