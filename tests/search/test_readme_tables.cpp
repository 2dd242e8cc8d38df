// README.md's tables of the samplers' and pruners' settings are exactly what the declarations
// write (settings::markdown), so that the docs cannot drift from the code: a setting added,
// removed, renamed or given another default or bound fails here until the README follows.
#include <gtest/gtest.h>

#include "core/errors.hpp"
#include "core/settings.hpp"
#include "search/pruners/pruner.hpp"
#include "search/sampler.hpp"
#include "search/samplers/tpe/tpe_sampler.hpp"

using namespace hpsearch;

namespace {

std::string readme() { return settings::read_text_file(std::string(HPSEARCH_SOURCE_DIR) + "/README.md"); }

}  // namespace

TEST(ReadmeTables, SamplersSettingsAreTheDeclaredOnes) {
  const std::string text = readme();
  ASSERT_FALSE(text.empty()) << "README.md not found under " << HPSEARCH_SOURCE_DIR;
  EXPECT_EQ(settings::table_after_marker(text, "random sampler"), settings::markdown(random_sampler_settings()));
  EXPECT_EQ(settings::table_after_marker(text, "tpe sampler"), settings::markdown(tpe_settings()));
}

TEST(ReadmeTables, EveryPrunerTypesSettingsAreTheDeclaredOnes) {
  const std::string text = readme();
  for (const char* type : {"median", "percentile", "asha", "hyperband"}) {
    const settings::Table& table = pruner_settings(type);
    EXPECT_EQ(table.name, std::string(type) + " pruner");
    EXPECT_EQ(settings::table_after_marker(text, table.name), settings::markdown(table)) << type;
  }
  // The README says in words that `none` takes no setting; it has no table.
  EXPECT_TRUE(pruner_settings("none").settings.empty());
  EXPECT_THROW(pruner_settings("sha"), Error);
}

TEST(ReadmeTables, SharedSettingsAreDeclaredOnceAndReadAlike) {
  // median and percentile share their judging schedule, asha and hyperband their rungs; the
  // declarations are the same objects' copies, so their rows are identical.
  const std::string median = settings::markdown(pruner_settings("median"));
  const std::string percentile = settings::markdown(pruner_settings("percentile"));
  EXPECT_NE(percentile.find(median.substr(median.find("| `startup_trials`"))), std::string::npos);
  const settings::Setting* asha = pruner_settings("asha").find("max_resource");
  const settings::Setting* hyperband = pruner_settings("hyperband").find("max_resource");
  ASSERT_TRUE(asha && hyperband);
  EXPECT_EQ(asha->doc, hyperband->doc);
  EXPECT_FALSE(asha->required);
  EXPECT_TRUE(hyperband->required) << "hyperband sizes its brackets from max_resource";
}
