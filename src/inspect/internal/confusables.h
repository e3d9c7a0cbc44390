// Look-alike letters folded to the Latin letter a reader sees (internal).
//
// The table (confusables.cpp) is a curated subset of the Unicode Security
// Mechanisms data, confusables.txt (UTS #39), taken from its "MA" entries
// whose prototype is one ASCII letter. See confusables.cpp for what is in it
// and why it is not the whole file.
#pragma once

namespace ztgate::inspect::internal {

// The ASCII letter `cp` looks like, or 0 when it is not in the table. Every
// code point in the table is a letter with no NFKC decomposition (a starter),
// so folding happens on decomposed text and composition can follow.
char fold_confusable(char32_t cp);

}  // namespace ztgate::inspect::internal
