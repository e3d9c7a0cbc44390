#include "inspect/internal/confusables.h"

#include <algorithm>
#include <cstddef>
#include <iterator>

namespace ztgate::inspect::internal {
namespace {

struct Fold {
  char32_t cp;
  char ascii;
};

// Source: Unicode confusables.txt (UTS #39, https://www.unicode.org/Public/security/),
// the "MA" mappings whose target is a single ASCII letter, restricted to
// letters of the scripts used to spoof Latin text (Cyrillic, Greek, Armenian,
// Cherokee) and to Latin-extension letters NFKC leaves alone. Where the file's
// skeleton differs from what a reader sees (it maps Cyrillic "І" to "l"
// because skeletons are caseless-ish), the table keeps the case a reader
// perceives ("І" -> "I").
//
// Why not the whole file: it has ~6,000 entries meant for comparing short
// identifiers, not rewriting running text. It maps digits and punctuation to
// letters ("0" -> "O", "1" -> "l", "m" -> "rn"), which would corrupt numbers
// and ordinary words; many targets are not ASCII or are several characters;
// and fullwidth, mathematical, circled and similar forms are already handled
// by NFKC, which runs first. A small table keeps folding predictable and
// reviewable; extend it with the test that shows the spoof it catches.
//
// Kept sorted by code point (checked below).
constexpr Fold kFolds[] = {
    {0x0131, 'i'},  // ı LATIN SMALL LETTER DOTLESS I
    {0x0237, 'j'},  // ȷ LATIN SMALL LETTER DOTLESS J
    {0x0251, 'a'},  // ɑ LATIN SMALL LETTER ALPHA
    {0x0261, 'g'},  // ɡ LATIN SMALL LETTER SCRIPT G
    {0x0269, 'i'},  // ɩ LATIN SMALL LETTER IOTA
    {0x026A, 'i'},  // ɪ LATIN LETTER SMALL CAPITAL I
    {0x028B, 'u'},  // ʋ LATIN SMALL LETTER V WITH HOOK
    {0x028F, 'y'},  // ʏ LATIN LETTER SMALL CAPITAL Y
    {0x037F, 'J'},  // Ϳ GREEK CAPITAL LETTER YOT
    {0x0391, 'A'},  // Α GREEK CAPITAL LETTER ALPHA
    {0x0392, 'B'},  // Β GREEK CAPITAL LETTER BETA
    {0x0395, 'E'},  // Ε GREEK CAPITAL LETTER EPSILON
    {0x0396, 'Z'},  // Ζ GREEK CAPITAL LETTER ZETA
    {0x0397, 'H'},  // Η GREEK CAPITAL LETTER ETA
    {0x0399, 'I'},  // Ι GREEK CAPITAL LETTER IOTA
    {0x039A, 'K'},  // Κ GREEK CAPITAL LETTER KAPPA
    {0x039C, 'M'},  // Μ GREEK CAPITAL LETTER MU
    {0x039D, 'N'},  // Ν GREEK CAPITAL LETTER NU
    {0x039F, 'O'},  // Ο GREEK CAPITAL LETTER OMICRON
    {0x03A1, 'P'},  // Ρ GREEK CAPITAL LETTER RHO
    {0x03A4, 'T'},  // Τ GREEK CAPITAL LETTER TAU
    {0x03A5, 'Y'},  // Υ GREEK CAPITAL LETTER UPSILON (also ϒ, via NFKC)
    {0x03A7, 'X'},  // Χ GREEK CAPITAL LETTER CHI
    {0x03B1, 'a'},  // α GREEK SMALL LETTER ALPHA
    {0x03B3, 'y'},  // γ GREEK SMALL LETTER GAMMA
    {0x03B9, 'i'},  // ι GREEK SMALL LETTER IOTA
    {0x03BD, 'v'},  // ν GREEK SMALL LETTER NU
    {0x03BF, 'o'},  // ο GREEK SMALL LETTER OMICRON
    {0x03C1, 'p'},  // ρ GREEK SMALL LETTER RHO
    {0x03C5, 'u'},  // υ GREEK SMALL LETTER UPSILON
    {0x03F3, 'j'},  // ϳ GREEK LETTER YOT
    {0x0405, 'S'},  // Ѕ CYRILLIC CAPITAL LETTER DZE
    {0x0406, 'I'},  // І CYRILLIC CAPITAL LETTER BYELORUSSIAN-UKRAINIAN I
    {0x0408, 'J'},  // Ј CYRILLIC CAPITAL LETTER JE
    {0x0410, 'A'},  // А CYRILLIC CAPITAL LETTER A
    {0x0412, 'B'},  // В CYRILLIC CAPITAL LETTER VE
    {0x0415, 'E'},  // Е CYRILLIC CAPITAL LETTER IE
    {0x041A, 'K'},  // К CYRILLIC CAPITAL LETTER KA
    {0x041C, 'M'},  // М CYRILLIC CAPITAL LETTER EM
    {0x041D, 'H'},  // Н CYRILLIC CAPITAL LETTER EN
    {0x041E, 'O'},  // О CYRILLIC CAPITAL LETTER O
    {0x0420, 'P'},  // Р CYRILLIC CAPITAL LETTER ER
    {0x0421, 'C'},  // С CYRILLIC CAPITAL LETTER ES
    {0x0422, 'T'},  // Т CYRILLIC CAPITAL LETTER TE
    {0x0423, 'Y'},  // У CYRILLIC CAPITAL LETTER U
    {0x0425, 'X'},  // Х CYRILLIC CAPITAL LETTER HA
    {0x0430, 'a'},  // а CYRILLIC SMALL LETTER A
    {0x0435, 'e'},  // е CYRILLIC SMALL LETTER IE (also ё, ѐ via decomposition)
    {0x043E, 'o'},  // о CYRILLIC SMALL LETTER O
    {0x0440, 'p'},  // р CYRILLIC SMALL LETTER ER
    {0x0441, 'c'},  // с CYRILLIC SMALL LETTER ES
    {0x0443, 'y'},  // у CYRILLIC SMALL LETTER U
    {0x0445, 'x'},  // х CYRILLIC SMALL LETTER HA
    {0x0455, 's'},  // ѕ CYRILLIC SMALL LETTER DZE
    {0x0456, 'i'},  // і CYRILLIC SMALL LETTER BYELORUSSIAN-UKRAINIAN I
    {0x0458, 'j'},  // ј CYRILLIC SMALL LETTER JE
    {0x0474, 'V'},  // Ѵ CYRILLIC CAPITAL LETTER IZHITSA
    {0x0475, 'v'},  // ѵ CYRILLIC SMALL LETTER IZHITSA
    {0x04AE, 'Y'},  // Ү CYRILLIC CAPITAL LETTER STRAIGHT U
    {0x04AF, 'y'},  // ү CYRILLIC SMALL LETTER STRAIGHT U
    {0x04BA, 'H'},  // Һ CYRILLIC CAPITAL LETTER SHHA
    {0x04BB, 'h'},  // һ CYRILLIC SMALL LETTER SHHA
    {0x04BD, 'e'},  // ҽ CYRILLIC SMALL LETTER ABKHASIAN CHE
    {0x04C0, 'I'},  // Ӏ CYRILLIC LETTER PALOCHKA
    {0x04CF, 'l'},  // ӏ CYRILLIC SMALL LETTER PALOCHKA
    {0x0501, 'd'},  // ԁ CYRILLIC SMALL LETTER KOMI DE
    {0x050C, 'G'},  // Ԍ CYRILLIC CAPITAL LETTER KOMI SJE
    {0x051A, 'Q'},  // Ԛ CYRILLIC CAPITAL LETTER QA
    {0x051B, 'q'},  // ԛ CYRILLIC SMALL LETTER QA
    {0x051C, 'W'},  // Ԝ CYRILLIC CAPITAL LETTER WE
    {0x051D, 'w'},  // ԝ CYRILLIC SMALL LETTER WE
    {0x054D, 'U'},  // Ս ARMENIAN CAPITAL LETTER SEH
    {0x054F, 'S'},  // Տ ARMENIAN CAPITAL LETTER TIWN
    {0x0555, 'O'},  // Օ ARMENIAN CAPITAL LETTER OH
    {0x0566, 'q'},  // զ ARMENIAN SMALL LETTER ZA
    {0x0570, 'h'},  // հ ARMENIAN SMALL LETTER HO
    {0x0578, 'n'},  // ո ARMENIAN SMALL LETTER VO
    {0x057D, 'u'},  // ս ARMENIAN SMALL LETTER SEH
    {0x0581, 'g'},  // ց ARMENIAN SMALL LETTER CO
    {0x0585, 'o'},  // օ ARMENIAN SMALL LETTER OH
    {0x13A0, 'D'},  // Ꭰ CHEROKEE LETTER A
    {0x13A1, 'R'},  // Ꭱ CHEROKEE LETTER E
    {0x13A2, 'T'},  // Ꭲ CHEROKEE LETTER I
    {0x13AA, 'A'},  // Ꭺ CHEROKEE LETTER GO
    {0x13AB, 'J'},  // Ꭻ CHEROKEE LETTER GU
    {0x13AC, 'E'},  // Ꭼ CHEROKEE LETTER GV
    {0x13B3, 'W'},  // Ꮃ CHEROKEE LETTER LA
    {0x13B7, 'M'},  // Ꮇ CHEROKEE LETTER LU
    {0x13BB, 'H'},  // Ꮋ CHEROKEE LETTER MI
    {0x13C0, 'G'},  // Ꮐ CHEROKEE LETTER NAH
    {0x13C3, 'Z'},  // Ꮓ CHEROKEE LETTER NO
    {0x13D9, 'V'},  // Ꮩ CHEROKEE LETTER DO
    {0x13DA, 'S'},  // Ꮪ CHEROKEE LETTER DU
    {0x13DE, 'L'},  // Ꮮ CHEROKEE LETTER TLE
    {0x13DF, 'C'},  // Ꮯ CHEROKEE LETTER TLI
    {0x13E2, 'P'},  // Ꮲ CHEROKEE LETTER TLV
    {0x13E6, 'K'},  // Ꮶ CHEROKEE LETTER TSO
    {0x13F4, 'B'},  // Ᏼ CHEROKEE LETTER YV
    {0x1D04, 'c'},  // ᴄ LATIN LETTER SMALL CAPITAL C
    {0x1D0F, 'o'},  // ᴏ LATIN LETTER SMALL CAPITAL O
    {0x1D1C, 'u'},  // ᴜ LATIN LETTER SMALL CAPITAL U
    {0x1D20, 'v'},  // ᴠ LATIN LETTER SMALL CAPITAL V
    {0x1D21, 'w'},  // ᴡ LATIN LETTER SMALL CAPITAL W
    {0x1D22, 'z'},  // ᴢ LATIN LETTER SMALL CAPITAL Z
    {0xA731, 's'},  // ꜱ LATIN LETTER SMALL CAPITAL S
};

constexpr bool sorted_by_code_point() {
  for (size_t i = 1; i < std::size(kFolds); ++i)
    if (kFolds[i - 1].cp >= kFolds[i].cp) return false;
  return true;
}
static_assert(sorted_by_code_point(), "kFolds must stay sorted for the binary search");

}  // namespace

char fold_confusable(char32_t cp) {
  if (cp < kFolds[0].cp || cp > std::prev(std::end(kFolds))->cp) return 0;
  auto it = std::lower_bound(std::begin(kFolds), std::end(kFolds), cp,
                             [](const Fold& f, char32_t c) { return f.cp < c; });
  return it != std::end(kFolds) && it->cp == cp ? it->ascii : 0;
}

}  // namespace ztgate::inspect::internal
