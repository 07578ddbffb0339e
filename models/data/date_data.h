// The date-normalization task: a date written the way people write it ("Thursday, May 3, 1979",
// "3.5.79", "the 3rd of may, 1979", "05/03/1979", ...) -> the same date in ISO 8601
// ("1979-05-03"). Generated in code (no download), seeded, from the dates 1950-01-01 ..
// 2049-12-31, so that two-digit years are unambiguous (50..99 -> 19yy, 00..49 -> 20yy).
//
// Slashes are month first (US: 5/3/79), dots and dashes with a numeric month are day first
// (European: 3.5.79), so every human string names exactly one date.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace minidl::models {

// One example: the human-written date and its ISO form.
struct DatePair {
  std::string human;  // e.g. "thu 3 may 1979"
  std::string iso;    // "1979-05-03"
};

// A calendar date.
struct CivilDate {
  int year, month, day;  // month 1..12, day 1..31
};

// Number of human formats, and date `d` written in format `format` (0 <= format < count).
int date_format_count();
std::string format_date(const CivilDate& d, int format);
// "yyyy-mm-dd".
std::string iso_date(const CivilDate& d);
// 0 = Monday .. 6 = Sunday (proleptic Gregorian calendar).
int day_of_week(const CivilDate& d);

// A uniformly random date of the range and format (one std::mt19937_64 stream per seed).
struct DateSplits {
  std::vector<DatePair> train, valid, test;
};
// Disjoint splits: no human string appears in two of them (nor twice in one).
DateSplits make_date_splits(int64_t train, int64_t valid, int64_t test, uint64_t seed);

}  // namespace minidl::models
