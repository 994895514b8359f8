#include "sweeps/sweep_spec.h"

#include <gtest/gtest.h>

#include "model/meta.h"
#include "pipeline/testing/pipeline_builder.h"

namespace kiln {
namespace {

using json = nlohmann::json;

// A pipeline Load → Train (lr: float, epochs: int, optimizer: string) and a
// second Train with the same attributes.
class SweepSpecTest : public ::testing::Test {
 protected:
  SweepSpecTest() : tree(NewProjectTree()) {
    b.CreatePipeline();
    std::string load_def = b.Definition("Load", "class Load: pass", {}, {"x"}, {{"n", 3}});
    std::string train_def = b.Definition("Train", "class Train: pass", {"x"}, {"m"},
                                         {{"lr", 0.01}, {"epochs", 5}, {"optimizer", "adam"}});
    load = b.Instance(load_def, "Load");
    train = b.Instance(train_def, "Train");
    other = b.Instance(train_def, "Finetune");
    b.Connect(load, "x", train, "x").Connect(load, "x", other, "x");
    EXPECT_TRUE(tree.Apply(b.Build()).ok());
  }

  Result<std::vector<SweepTrial>> Expand(const json& body) {
    KILN_ASSIGN_OR_RETURN(SweepSpec spec, ParseSweepSpec(body, tree, b.pipeline()));
    return ExpandSweep(spec);
  }

  std::string Error(const json& body) {
    auto r = Expand(body);
    EXPECT_FALSE(r.ok()) << body.dump();
    return r.ok() ? "" : r.status().message();
  }

  Tree tree;
  PipelineBuilder b;
  std::string load, train, other;
};

TEST_F(SweepSpecTest, AGridIsEveryCombinationTheLastVaryingFastest) {
  auto trials = Expand({{"parameters",
                         {{{"name", "Train.lr"}, {"values", {0.001, 0.01}}},
                          {{"node", train}, {"attribute", "epochs"}, {"values", {1, 2, 3}}}}}});
  ASSERT_TRUE(trials.ok()) << trials.status().ToString();
  ASSERT_EQ(trials->size(), 6u);
  EXPECT_EQ((*trials)[0].overrides.at(train).at("lr"), Value(0.001));
  EXPECT_EQ((*trials)[0].overrides.at(train).at("epochs"), Value(int64_t(1)));
  EXPECT_EQ((*trials)[1].overrides.at(train).at("epochs"), Value(int64_t(2)));
  EXPECT_EQ((*trials)[3].overrides.at(train).at("lr"), Value(0.01));
  EXPECT_EQ((*trials)[5].values[1].first, "Train.epochs");
}

TEST_F(SweepSpecTest, ValuesTakeTheAttributesType) {
  // An int for a float attribute becomes a float (3 and 3.0 are other cache keys).
  auto trials = Expand({{"parameters", {{{"name", "Train.lr"}, {"values", {1}}}}}});
  ASSERT_TRUE(trials.ok());
  EXPECT_TRUE((*trials)[0].overrides.at(train).at("lr").is_float());
  EXPECT_NE(Error({{"parameters", {{{"name", "Train.epochs"}, {"values", {1.5}}}}}})
                .find("Train.epochs is an integer; 1.5 is not"),
            std::string::npos);
  EXPECT_NE(Error({{"parameters", {{{"name", "Train.optimizer"}, {"values", {3}}}}}})
                .find("Train.optimizer is string"),
            std::string::npos);
}

TEST_F(SweepSpecTest, RangesOnAGridAndAtRandom) {
  auto grid =
      Expand({{"parameters",
               {{{"name", "Train.lr"},
                 {"range", {{"min", 0.001}, {"max", 0.1}, {"steps", 3}, {"log", true}}}}}}});
  ASSERT_TRUE(grid.ok()) << grid.status().ToString();
  ASSERT_EQ(grid->size(), 3u);
  EXPECT_NEAR((*grid)[1].overrides.at(train).at("lr").as_float(), 0.01, 1e-12);
  // An int attribute rounds; rounding to a value twice keeps it once.
  auto ints =
      Expand({{"parameters",
               {{{"name", "Train.epochs"}, {"range", {{"min", 1}, {"max", 2}, {"steps", 4}}}}}}});
  ASSERT_TRUE(ints.ok());
  EXPECT_EQ(ints->size(), 2u);
  json random = {{"mode", "random"},
                 {"samples", 5},
                 {"seed", 7},
                 {"parameters",
                  {{{"name", "Train.lr"}, {"range", {{"min", 0.0}, {"max", 1.0}}}},
                   {{"name", "Train.optimizer"}, {"values", {"adam", "sgd"}}}}}};
  auto a = Expand(random), b2 = Expand(random);
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    double lr = (*a)[i].overrides.at(train).at("lr").as_float();
    EXPECT_TRUE(lr >= 0 && lr <= 1);
    EXPECT_EQ((*a)[i].overrides, (*b2)[i].overrides);  // the seed repeats it
  }
}

TEST_F(SweepSpecTest, EachMistakeIsNamed) {
  EXPECT_NE(Error({{"parameters", json::array()}}).find("non-empty list"), std::string::npos);
  EXPECT_NE(Error({{"parameters", {{{"name", "lr"}, {"values", {1}}}}}}).find("ambiguous"),
            std::string::npos);
  EXPECT_NE(Error({{"parameters", {{{"name", "Train.nope"}, {"values", {1}}}}}})
                .find("no operation of the pipeline has an attribute 'Train.nope'"),
            std::string::npos);
  EXPECT_NE(Error({{"parameters", {{{"node", "x"}, {"attribute", "lr"}, {"values", {1}}}}}})
                .find("no operation x"),
            std::string::npos);
  EXPECT_NE(Error({{"parameters", {{{"name", "Train.lr"}}}}}).find("either"), std::string::npos);
  EXPECT_NE(Error({{"parameters", {{{"name", "Train.lr"}, {"range", {{"min", 1}, {"max", 2}}}}}}})
                .find("needs \"steps\""),
            std::string::npos);
  EXPECT_NE(Error({{"parameters",
                    {{{"name", "Train.lr"},
                      {"range", {{"min", 0}, {"max", 1}, {"steps", 2}, {"log", true}}}}}}})
                .find("min > 0"),
            std::string::npos);
  EXPECT_NE(Error({{"mode", "random"}, {"parameters", {{{"name", "Train.lr"}, {"values", {1}}}}}})
                .find("needs \"samples\""),
            std::string::npos);
  EXPECT_NE(Error({{"mode", "bayes"}, {"parameters", {{{"name", "Train.lr"}, {"values", {1}}}}}})
                .find("grid or random"),
            std::string::npos);
  EXPECT_NE(
      Error({{"parameters",
              {{{"name", "Train.lr"}, {"values", {1}}}, {{"name", "Train.lr"}, {"values", {2}}}}}})
          .find("swept twice"),
      std::string::npos);
  EXPECT_NE(
      Error({{"parameters",
              {{{"name", "Train.lr"}, {"range", {{"min", 0}, {"max", 1}, {"steps", 40}}}},
               {{"name", "Finetune.lr"}, {"range", {{"min", 0}, {"max", 1}, {"steps", 40}}}}}}})
          .find("more than 1000 trials"),
      std::string::npos);
}

}  // namespace
}  // namespace kiln
