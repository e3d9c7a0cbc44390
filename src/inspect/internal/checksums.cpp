// Check digits of cards, IBANs and national ids (see checksums.h).
#include "inspect/internal/checksums.h"

#include <array>
#include <cstdint>
#include <string>

namespace ztgate::inspect::internal {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }

// The value without spaces and dashes.
std::string compact(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value)
    if (c != ' ' && c != '-') out.push_back(c);
  return out;
}

bool all_digits(std::string_view s) {
  for (char c : s)
    if (!is_digit(c)) return false;
  return !s.empty();
}

int number(std::string_view digits) {  // at most 9 digits
  int n = 0;
  for (char c : digits) n = n * 10 + (c - '0');
  return n;
}

bool in_range(std::string_view digits, size_t width, int lo, int hi) {
  if (digits.size() < width) return false;
  const int prefix = number(digits.substr(0, width));
  return prefix >= lo && prefix <= hi;
}

bool known_issuer(std::string_view d) {
  const size_t n = d.size();
  auto len = [&](size_t lo, size_t hi) { return n >= lo && n <= hi; };
  if (d[0] == '4') return n == 13 || n == 16 || n == 19;                       // Visa
  if (in_range(d, 2, 51, 55) || in_range(d, 4, 2221, 2720)) return n == 16;   // Mastercard
  if (in_range(d, 2, 34, 34) || in_range(d, 2, 37, 37)) return n == 15;       // Amex
  if (in_range(d, 4, 6011, 6011) || in_range(d, 3, 644, 649) || in_range(d, 2, 65, 65))
    return len(16, 19);  // Discover
  if (in_range(d, 4, 3528, 3589)) return len(16, 19);  // JCB
  if (in_range(d, 3, 300, 305) || in_range(d, 4, 3095, 3095) || in_range(d, 2, 36, 36) ||
      in_range(d, 2, 38, 39))
    return len(14, 19);                                 // Diners
  if (in_range(d, 2, 62, 62)) return len(16, 19);       // UnionPay
  if (in_range(d, 4, 2200, 2204)) return len(16, 19);   // Mir
  for (int maestro : {5018, 5020, 5038, 5893, 6304, 6759, 6761, 6762, 6763})
    if (in_range(d, 4, maestro, maestro)) return len(13, 19);
  return false;
}

struct IbanLength {
  char country[3];
  uint8_t length;
};
// ISO 13616 registry (SWIFT), countries with an IBAN.
constexpr IbanLength kIbanLengths[] = {
    {"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20}, {"BE", 16},
    {"BG", 22}, {"BH", 22}, {"BI", 27}, {"BR", 29}, {"BY", 28}, {"CH", 21}, {"CR", 22},
    {"CY", 28}, {"CZ", 24}, {"DE", 22}, {"DJ", 27}, {"DK", 18}, {"DO", 28}, {"EE", 20},
    {"EG", 29}, {"ES", 24}, {"FI", 18}, {"FO", 18}, {"FR", 27}, {"GB", 22}, {"GE", 22},
    {"GI", 23}, {"GL", 18}, {"GR", 27}, {"GT", 28}, {"HR", 21}, {"HU", 28}, {"IE", 22},
    {"IL", 23}, {"IQ", 23}, {"IS", 26}, {"IT", 27}, {"JO", 30}, {"KW", 30}, {"KZ", 20},
    {"LB", 28}, {"LC", 32}, {"LI", 21}, {"LT", 20}, {"LU", 20}, {"LV", 21}, {"LY", 25},
    {"MC", 27}, {"MD", 24}, {"ME", 22}, {"MK", 19}, {"MR", 27}, {"MT", 31}, {"MU", 30},
    {"NL", 18}, {"NO", 15}, {"PK", 24}, {"PL", 28}, {"PS", 29}, {"PT", 25}, {"QA", 29},
    {"RO", 24}, {"RS", 22}, {"RU", 33}, {"SA", 24}, {"SC", 31}, {"SD", 18}, {"SE", 24},
    {"SI", 19}, {"SK", 24}, {"SM", 27}, {"SO", 23}, {"ST", 25}, {"SV", 28}, {"TL", 23},
    {"TN", 24}, {"TR", 26}, {"UA", 29}, {"VA", 22}, {"VG", 24}, {"XK", 20},
};

size_t iban_length(std::string_view country) {
  for (const IbanLength& e : kIbanLengths)
    if (country == std::string_view(e.country, 2)) return e.length;
  return 0;
}

}  // namespace

bool luhn(std::string_view digits) {
  int sum = 0;
  bool twice = false;
  for (size_t i = digits.size(); i-- > 0;) {
    int d = digits[i] - '0';
    if (twice) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
    twice = !twice;
  }
  return !digits.empty() && sum % 10 == 0;
}

bool valid_payment_card(std::string_view value) {
  const std::string d = compact(value);
  if (d.size() < 13 || d.size() > 19 || !all_digits(d)) return false;
  return known_issuer(d) && luhn(d);
}

bool valid_iban(std::string_view value) {
  std::string s;
  for (char c : value)
    if (c != ' ') s.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
  if (s.size() < 15 || !is_upper(s[0]) || !is_upper(s[1]) || !is_digit(s[2]) || !is_digit(s[3]))
    return false;
  if (iban_length(std::string_view(s).substr(0, 2)) != s.size()) return false;
  // Move the first four characters to the end, letters as 10..35, mod 97.
  const std::string rotated = s.substr(4) + s.substr(0, 4);
  int rem = 0;
  for (char c : rotated) {
    if (is_digit(c)) {
      rem = (rem * 10 + (c - '0')) % 97;
    } else if (is_upper(c)) {
      rem = (rem * 100 + (c - 'A' + 10)) % 97;
    } else {
      return false;
    }
  }
  return rem == 1;
}

bool valid_ssn_us(std::string_view v) {
  if (v.size() != 11 || v[3] != '-' || v[6] != '-') return false;
  const std::string_view area = v.substr(0, 3), group = v.substr(4, 2), serial = v.substr(7, 4);
  if (!all_digits(area) || !all_digits(group) || !all_digits(serial)) return false;
  const int a = number(area);
  if (a == 0 || a == 666 || a >= 900 || number(group) == 0 || number(serial) == 0) return false;
  return v != "078-05-1120" && v != "219-09-9999";
}

bool valid_nino_uk(std::string_view value) {
  std::string s;
  for (char c : value)
    if (c != ' ') s.push_back(c);
  if (s.size() != 9 || !is_upper(s[0]) || !is_upper(s[1]) || !all_digits(s.substr(2, 6)))
    return false;
  constexpr std::string_view kNeverFirst = "DFIQUV", kNeverSecond = "DFIOQUV";
  if (kNeverFirst.find(s[0]) != std::string_view::npos ||
      kNeverSecond.find(s[1]) != std::string_view::npos)
    return false;
  const std::string prefix = s.substr(0, 2);
  for (const char* bad : {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})
    if (prefix == bad) return false;
  return s[8] >= 'A' && s[8] <= 'D';
}

bool valid_dni_es(std::string_view value) {
  std::string s = compact(value);
  if (s.size() != 9) return false;
  constexpr std::string_view kLetters = "TRWAGMYFPDXBNJZSQVHLCKE";
  if (s[0] == 'X' || s[0] == 'Y' || s[0] == 'Z') s[0] = static_cast<char>('0' + (s[0] - 'X'));
  if (!all_digits(std::string_view(s).substr(0, 8)) || !is_upper(s[8])) return false;
  return kLetters[static_cast<size_t>(number(std::string_view(s).substr(0, 8)) % 23)] == s[8];
}

bool valid_nir_fr(std::string_view value) {
  std::string s;
  for (char c : value)
    if (c != ' ') s.push_back(c);
  if (s.size() != 15 || (s[0] != '1' && s[0] != '2')) return false;
  const int month = is_digit(s[3]) && is_digit(s[4]) ? (s[3] - '0') * 10 + (s[4] - '0') : -1;
  if (!((month >= 1 && month <= 12) || month >= 20)) return false;
  // Corsica: 2A counts as 19, 2B as 18 (INSEE).
  if (s[5] == '2' && (s[6] == 'A' || s[6] == 'B')) {
    s[6] = s[6] == 'A' ? '9' : '8';
    s[5] = '1';
  }
  if (!all_digits(s)) return false;
  int64_t n = 0;
  for (size_t i = 0; i < 13; ++i) n = n * 10 + (s[i] - '0');
  const int key = number(std::string_view(s).substr(13, 2));
  return key >= 1 && key <= 97 && key == 97 - static_cast<int>(n % 97);
}

bool valid_steuer_id_de(std::string_view value) {
  std::string s;
  for (char c : value)
    if (c != ' ') s.push_back(c);
  if (s.size() != 11 || !all_digits(s) || s[0] == '0') return false;
  std::array<int, 10> count{};
  for (size_t i = 0; i < 10; ++i) ++count[static_cast<size_t>(s[i] - '0')];
  int repeated = 0;
  for (int c : count) {
    if (c > 3) return false;
    if (c >= 2) ++repeated;
  }
  if (repeated != 1) return false;
  for (size_t i = 0; i + 2 < 10; ++i)  // a digit thrice is never thrice in a row
    if (s[i] == s[i + 1] && s[i] == s[i + 2]) return false;
  int product = 10;  // ISO 7064 MOD 11,10
  for (size_t i = 0; i < 10; ++i) {
    int sum = (s[i] - '0' + product) % 10;
    if (sum == 0) sum = 10;
    product = (sum * 2) % 11;
  }
  int check = 11 - product;
  if (check == 10) check = 0;
  return check == s[10] - '0';
}

}  // namespace ztgate::inspect::internal
