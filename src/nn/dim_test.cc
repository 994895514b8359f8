#include "nn/dim.h"

#include <gtest/gtest.h>

namespace kiln::nn {
namespace {

TEST(DimTest, KnownArithmetic) {
  EXPECT_EQ((Dim(3) + Dim(4)).ToString(), "7");
  EXPECT_EQ(Dim::FloorDiv(Dim(-3), 2).ToString(), "-2");
  EXPECT_EQ(Dim::CeilDiv(Dim(5), 2).ToString(), "3");
  EXPECT_EQ(*(Dim(6) * Dim(7)).value(), 42);
}

TEST(DimTest, SymbolsCancelAndStayExact) {
  Dim h = Dim::Symbol("H");
  EXPECT_EQ((h + Dim(2) - Dim(3) + Dim(1)).ToString(), "H");
  EXPECT_EQ(Dim::FloorDiv(h * Dim(2) + Dim(2), 2).ToString(), "H + 1");
  EXPECT_EQ(Dim::FloorDiv(h * Dim(2) + Dim(1), 2).ToString(), "H");
  EXPECT_EQ((h - h).ToString(), "0");
  EXPECT_TRUE((h - h).known());
}

TEST(DimTest, UnevenFloorIsOneOpaqueTerm) {
  Dim h = Dim::Symbol("H");
  Dim d = Dim::FloorDiv(h - Dim(1), 2) + Dim(1);
  EXPECT_EQ(d.ToString(), "floor((H - 1)/2) + 1");
  EXPECT_EQ(d.ToPython(), "((H - 1)//2) + 1");
  EXPECT_EQ(d, Dim::FloorDiv(h - Dim(1), 2) + Dim(1));
  EXPECT_EQ(d.Names(), std::vector<std::string>{"H"});
  EXPECT_EQ(Dim::CeilDiv(h, 2).ToPython(), "(-((-(H))//2))");
}

TEST(DimTest, ProductsAreCanonical) {
  Dim n = Dim::Symbol("N"), c = Dim::Symbol("C");
  EXPECT_EQ((n * c * Dim(3) + c * n).ToString(), "4*C*N");
  EXPECT_EQ(Product({n, Dim(8), Dim(4)}).ToString(), "32*N");
  EXPECT_EQ((Dim(0) - n).ToString(), "-N");
  EXPECT_EQ(ShapeToString({n, Dim(3)}), "[N, 3]");
}

}  // namespace
}  // namespace kiln::nn
