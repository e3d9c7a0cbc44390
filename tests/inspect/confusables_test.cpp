// The confusables table (src/inspect/internal/confusables.cpp): folding
// happens on NFKC-decomposed text, so every folded code point must be one
// NFKC leaves alone, and it must fold to an ASCII letter.
#include "inspect/internal/confusables.h"

#include <gtest/gtest.h>
#include <utf8proc.h>

namespace ztgate::inspect::internal {
namespace {

TEST(Confusables, EveryEntryIsAnUndecomposedLetterFoldingToAnAsciiLetter) {
  int entries = 0;
  for (char32_t cp = 0x80; cp < 0x20000; ++cp) {
    char f = fold_confusable(cp);
    if (f == 0) continue;
    ++entries;
    const utf8proc_property_t* p = utf8proc_get_property(static_cast<utf8proc_int32_t>(cp));
    EXPECT_EQ(p->decomp_seqindex, UINT16_MAX)
        << std::hex << static_cast<uint32_t>(cp) << " has an NFKC decomposition";
    EXPECT_EQ(p->combining_class, 0) << std::hex << static_cast<uint32_t>(cp);
    EXPECT_TRUE((f >= 'a' && f <= 'z') || (f >= 'A' && f <= 'Z'))
        << std::hex << static_cast<uint32_t>(cp);
    auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
    EXPECT_TRUE(cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO)
        << std::hex << static_cast<uint32_t>(cp);
  }
  EXPECT_GT(entries, 90);
}

TEST(Confusables, CommonSpoofsFold) {
  EXPECT_EQ(fold_confusable(0x0456), 'i');  // Cyrillic і
  EXPECT_EQ(fold_confusable(0x0430), 'a');  // Cyrillic а
  EXPECT_EQ(fold_confusable(0x039F), 'O');  // Greek Ο
  EXPECT_EQ(fold_confusable(0x0585), 'o');  // Armenian օ
  EXPECT_EQ(fold_confusable('a'), 0);
  EXPECT_EQ(fold_confusable(0x0438), 0);  // Cyrillic и looks like no Latin letter
}

}  // namespace
}  // namespace ztgate::inspect::internal
