// Date-normalization data: the human formats, the calendar arithmetic they need (day of week,
// month lengths) and seeded disjoint splits.
#include "models/data/date_data.h"

#include <cctype>
#include <cstdio>
#include <random>
#include <unordered_set>

#include "core/error.h"

namespace minidl::models {

namespace {

constexpr int kFirstYear = 1950, kLastYear = 2049;

const char* const kMonths[12] = {"January",   "February", "March",    "April",
                                 "May",       "June",     "July",     "August",
                                 "September", "October",  "November", "December"};
const char* const kWeekdays[7] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                  "Friday", "Saturday", "Sunday"};

bool is_leap(int year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int month_length(int year, int month) {
  static const int kLengths[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap(year) ? 29 : kLengths[month - 1];
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string two_digits(int v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02d", v % 100);
  return buf;
}

// 1st, 2nd, 3rd, 4th, ..., 11th, 12th, 13th, ..., 21st, 22nd, 23rd, ...
std::string ordinal(int day) {
  const char* suffix = "th";
  if (day % 100 < 11 || day % 100 > 13) {
    if (day % 10 == 1) suffix = "st";
    if (day % 10 == 2) suffix = "nd";
    if (day % 10 == 3) suffix = "rd";
  }
  return std::to_string(day) + suffix;
}

// The formats: each writes (d)ay, (m)onth, (y)ear its own way. `Month` is the month's name,
// `Mon` its first three letters; `yy` the year's last two digits.
std::string write(const CivilDate& date, int format) {
  const std::string d = std::to_string(date.day), dd = two_digits(date.day);
  const std::string m = std::to_string(date.month), mm = two_digits(date.month);
  const std::string yyyy = std::to_string(date.year), yy = two_digits(date.year);
  const std::string month = kMonths[date.month - 1], mon = month.substr(0, 3);
  const std::string weekday = kWeekdays[day_of_week(date)], wd = weekday.substr(0, 3);
  switch (format) {
    case 0:
      return d + " " + month + " " + yyyy;  // 3 May 1979
    case 1:
      return dd + " " + month + " " + yyyy;  // 03 May 1979
    case 2:
      return lower(d + " " + month + " " + yyyy);  // 3 may 1979
    case 3:
      return month + " " + d + ", " + yyyy;  // May 3, 1979
    case 4:
      return lower(month + " " + d + " " + yyyy);  // may 3 1979
    case 5:
      return upper(d + " " + month + " " + yyyy);  // 3 MAY 1979
    case 6:
      return d + " " + mon + " " + yyyy;  // 3 May 1979 (abbrev.)
    case 7:
      return mon + " " + d + ", " + yyyy;  // Mar 3, 1979
    case 8:
      return lower(dd + " " + mon + " " + yy);  // 03 mar 79
    case 9:
      return weekday + ", " + month + " " + d + ", " + yyyy;  // Thursday, May 3, 1979
    case 10:
      return lower(weekday + " " + d + " " + month + " " + yyyy);  // thursday 3 may 1979
    case 11:
      return wd + ", " + d + " " + mon + " " + yyyy;  // Thu, 3 May 1979
    case 12:
      return m + "/" + d + "/" + yy;  // 5/3/79
    case 13:
      return mm + "/" + dd + "/" + yyyy;  // 05/03/1979
    case 14:
      return d + "." + m + "." + yyyy;  // 3.5.1979
    case 15:
      return dd + "." + mm + "." + yy;  // 03.05.79
    case 16:
      return yyyy + "-" + mm + "-" + dd;  // 1979-05-03
    case 17:
      return yyyy + mm + dd;  // 19790503
    case 18:
      return ordinal(date.day) + " of " + month + " " + yyyy;  // 3rd of May 1979
    case 19:
      return lower("the " + ordinal(date.day) + " of " + month + ", " + yyyy);
    case 20:
      return month + " " + ordinal(date.day) + ", " + yyyy;  // May 3rd, 1979
    case 21:
      return yyyy + "/" + mm + "/" + dd;  // 1979/05/03
    case 22:
      return d + "-" + mon + "-" + yyyy;  // 3-May-1979
    case 23:
      return lower(dd + "-" + mon + "-" + yy);  // 03-may-79
    default:
      break;
  }
  MINIDL_FAIL("format_date",
              "format " << format << " out of range [0, " << date_format_count() << ")");
}

// Days from 1950-01-01 (day 0) to the end of 2049.
int64_t days_in_range() {
  int64_t n = 0;
  for (int y = kFirstYear; y <= kLastYear; ++y) n += is_leap(y) ? 366 : 365;
  return n;
}

CivilDate date_from_index(int64_t index) {
  CivilDate date{kFirstYear, 1, 1};
  while (index >= (is_leap(date.year) ? 366 : 365))
    index -= is_leap(date.year) ? 366 : 365, ++date.year;
  while (index >= month_length(date.year, date.month))
    index -= month_length(date.year, date.month), ++date.month;
  date.day = static_cast<int>(index) + 1;
  return date;
}

}  // namespace

int date_format_count() {
  return 24;
}

std::string format_date(const CivilDate& d, int format) {
  MINIDL_CHECK(d.year >= 1 && d.month >= 1 && d.month <= 12 && d.day >= 1 &&
                   d.day <= month_length(d.year, d.month),
               "format_date",
               "no such date: year " << d.year << ", month " << d.month << ", day " << d.day);
  return write(d, format);
}

std::string iso_date(const CivilDate& d) {
  char buf[40];  // room for any three ints, so no build's format check can see a truncation
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", d.year, d.month, d.day);
  return buf;
}

// Zeller-style count: 0001-01-01 was a Monday in the proleptic Gregorian calendar, so the
// weekday is the number of days since then modulo 7.
int day_of_week(const CivilDate& d) {
  const int64_t y = d.year - 1;
  int64_t days = y * 365 + y / 4 - y / 100 + y / 400;
  for (int m = 1; m < d.month; ++m) days += month_length(d.year, m);
  days += d.day - 1;
  return static_cast<int>(days % 7);
}

DateSplits make_date_splits(int64_t train, int64_t valid, int64_t test, uint64_t seed) {
  MINIDL_CHECK(train >= 0 && valid >= 0 && test >= 0, "make_date_splits",
               "negative split size: train " << train << ", valid " << valid << ", test " << test);
  const int64_t total = train + valid + test;
  // Distinct strings available: every (date, format) pair is distinct except a few formats that
  // coincide on some dates; ask for well under that.
  MINIDL_CHECK(total <= days_in_range() * 10, "make_date_splits",
               total << " pairs requested; at most " << days_in_range() * 10 << " are offered");
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> pick_day(0, days_in_range() - 1);
  std::uniform_int_distribution<int> pick_format(0, date_format_count() - 1);
  std::unordered_set<std::string> seen;
  DateSplits splits;
  std::vector<DatePair>* parts[3] = {&splits.test, &splits.valid, &splits.train};
  const int64_t sizes[3] = {test, valid, train};
  for (int p = 0; p < 3; ++p) {
    while (static_cast<int64_t>(parts[p]->size()) < sizes[p]) {
      const CivilDate date = date_from_index(pick_day(rng));
      std::string human = write(date, pick_format(rng));
      if (!seen.insert(human).second) continue;
      parts[p]->push_back({std::move(human), iso_date(date)});
    }
  }
  return splits;
}

}  // namespace minidl::models
