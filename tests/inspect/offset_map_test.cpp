// OffsetMap (src/inspect/offset_map.h): pieces, merging, slices and
// composition, which every view's map to the input is built from.
#include "inspect/offset_map.h"

#include <gtest/gtest.h>

namespace ztgate::inspect {
namespace {

TEST(OffsetMap, ContiguousPiecesOfTheSameShapeMerge) {
  OffsetMap m;
  m.append(5, 0, 1, 1);
  m.append(3, 5, 1, 1);   // continues: merged
  m.append(1, 8, 1, 3);   // one character rewritten from 3 bytes
  m.append(1, 11, 1, 3);  // and another: merged with it
  m.append(2, 20, 1, 1);  // a gap in the input: a new piece
  EXPECT_EQ(m.pieces().size(), 3u);
  EXPECT_EQ(m.size(), 12u);
  EXPECT_EQ(m.map(0, 8), (Span{0, 8}));
  EXPECT_EQ(m.map(8, 10), (Span{8, 14}));
  EXPECT_EQ(m.map(9, 10), (Span{11, 14}));
  EXPECT_EQ(m.map(7, 11), (Span{7, 21}));
}

TEST(OffsetMap, AByteMapsToItsWholeUnit) {
  OffsetMap m;
  m.append(6, 100, 3, 4);  // base64: 3 bytes from 4 characters
  EXPECT_EQ(m.map(0, 1), (Span{100, 104}));
  EXPECT_EQ(m.map(2, 4), (Span{100, 108}));
  EXPECT_EQ(m.map(3, 6), (Span{104, 108}));
}

TEST(OffsetMap, EmptyRangesMapToAPosition) {
  OffsetMap m;
  m.append(4, 10, 1, 1);
  EXPECT_EQ(m.map(2, 2), (Span{12, 12}));
  EXPECT_EQ(m.map(4, 4), (Span{14, 14}));
  EXPECT_EQ(m.map(9, 12), (Span{14, 14}));  // clamped
  EXPECT_EQ(OffsetMap().map(0, 5), (Span{0, 0}));
}

TEST(OffsetMap, InsertedBytesDoNotWidenASpan) {
  OffsetMap m;
  m.append(3, 0, 1, 1);
  m.append(1, 50, 1, 0);  // a separator standing at offset 50
  m.append(3, 10, 1, 1);
  EXPECT_EQ(m.map(0, 7), (Span{0, 13}));
  EXPECT_EQ(m.map(3, 4), (Span{50, 50}));
}

TEST(OffsetMap, SlicesCutUnitsIntoCoarserOnes) {
  OffsetMap src;
  src.append(9, 0, 3, 4);  // 3 units: input [0,4) [4,8) [8,12)
  OffsetMap slice;
  slice.append_slice(src, 1, 8);  // a partial unit, a whole one, a partial one
  EXPECT_EQ(slice.size(), 7u);
  EXPECT_EQ(slice.map(0, 2), (Span{0, 4}));
  EXPECT_EQ(slice.map(2, 5), (Span{4, 8}));
  EXPECT_EQ(slice.map(5, 7), (Span{8, 12}));
}

TEST(OffsetMap, ComposeFollowsBothMaps) {
  // parent: a view whose bytes 0..9 come from input 100..109, then 3 bytes from 200..212.
  OffsetMap parent;
  parent.append(10, 100, 1, 1);
  parent.append(3, 200, 1, 4);
  // child: decoded bytes, 3 per 4 parent bytes starting at parent offset 2.
  OffsetMap child;
  child.append(6, 2, 3, 4);
  OffsetMap both = child.compose(parent);
  EXPECT_EQ(both.size(), 6u);
  EXPECT_EQ(both.map(0, 3), (Span{102, 106}));
  EXPECT_EQ(both.map(3, 6), (Span{106, 110}));

  // Identity bytes across the two parent pieces keep each piece's shape.
  OffsetMap copy;
  copy.append(5, 8, 1, 1);
  OffsetMap c = copy.compose(parent);
  EXPECT_EQ(c.map(0, 2), (Span{108, 110}));
  EXPECT_EQ(c.map(2, 3), (Span{200, 204}));
  EXPECT_EQ(c.map(0, 5), (Span{108, 212}));
}

TEST(OffsetMap, TruncateDropsTheTail) {
  OffsetMap m;
  m.append(4, 0, 1, 1);
  m.append(2, 10, 2, 5);
  m.truncate(4);
  EXPECT_EQ(m.size(), 4u);
  EXPECT_EQ(m.pieces().size(), 1u);
  m.append(1, 4, 1, 1);
  EXPECT_EQ(m.pieces().size(), 1u);
}

}  // namespace
}  // namespace ztgate::inspect
