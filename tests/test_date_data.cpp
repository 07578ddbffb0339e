// The date-normalization data: known dates in every format, weekdays, two-digit years, seeded
// disjoint splits, errors.
#include <set>

#include "models/data/date_data.h"
#include "tests/test_util.h"

using namespace minidl;
using namespace minidl::models;

TEST_CASE("dates are written in every human format and read back as ISO", "[date-data]") {
  const CivilDate d{1979, 5, 3};  // a Thursday
  CHECK(iso_date(d) == "1979-05-03");
  CHECK(format_date(d, 0) == "3 May 1979");
  CHECK(format_date(d, 8) == "03 may 79");
  CHECK(format_date(d, 9) == "Thursday, May 3, 1979");
  CHECK(format_date(d, 12) == "5/3/79");
  CHECK(format_date(d, 15) == "03.05.79");
  CHECK(format_date(d, 17) == "19790503");
  CHECK(format_date(d, 19) == "the 3rd of may, 1979");
  CHECK(format_date({2011, 11, 11}, 20) == "November 11th, 2011");
  CHECK(format_date({2022, 1, 22}, 18) == "22nd of January 2022");
  CHECK(format_date({2001, 9, 21}, 18) == "21st of September 2001");
  std::set<std::string> all;
  for (int f = 0; f < date_format_count(); ++f) all.insert(format_date(d, f));
  CHECK(all.size() >= 20u);  // a few formats coincide on this date (e.g. case-only differences)
}

TEST_CASE("day_of_week follows the Gregorian calendar", "[date-data]") {
  CHECK(day_of_week({1979, 5, 3}) == 3);    // Thursday
  CHECK(day_of_week({2000, 1, 1}) == 5);    // Saturday
  CHECK(day_of_week({2000, 2, 29}) == 1);   // Tuesday (2000 is a leap year)
  CHECK(day_of_week({1970, 1, 1}) == 3);    // Thursday
  CHECK(day_of_week({2049, 12, 31}) == 4);  // Friday
}

TEST_CASE("date splits are seeded, disjoint and well formed", "[date-data]") {
  DateSplits a = make_date_splits(500, 50, 100, 7), b = make_date_splits(800, 50, 100, 7);
  REQUIRE(a.train.size() == 500);
  REQUIRE(a.valid.size() == 50);
  REQUIRE(a.test.size() == 100);
  // The held-out split does not depend on how much training data was asked for.
  for (size_t i = 0; i < a.test.size(); ++i) CHECK(a.test[i].human == b.test[i].human);
  std::set<std::string> humans;
  for (const auto* part : {&a.train, &a.valid, &a.test})
    for (const DatePair& p : *part) {
      CHECK(humans.insert(p.human).second);
      REQUIRE(p.iso.size() == 10);
      const int year = std::stoi(p.iso.substr(0, 4));
      CHECK(year >= 1950);
      CHECK(year <= 2049);
      CHECK(p.iso[4] == '-');
    }
  CHECK(make_date_splits(10, 0, 0, 8).train[0].human != a.train[0].human);
}

TEST_CASE("date data errors name the function and the values", "[date-data]") {
  CHECK_THROWS_WITH(format_date({2001, 2, 29}, 0),
                    Catch::Contains("format_date") && Catch::Contains("day 29"));
  CHECK_THROWS_WITH(format_date({2001, 2, 2}, 24),
                    Catch::Contains("format_date") && Catch::Contains("format 24"));
  CHECK_THROWS_WITH(make_date_splits(-1, 0, 0, 1), Catch::Contains("make_date_splits"));
}
