#pragma once
// How durations and counts read wherever hpsearch prints them: the progress lines, the
// summaries; and how wide a printed table may be.
#include <cstdio>
#include <string>

namespace hpsearch {

// "1:02:03", "02:03", or "4.20s" under a minute; "?" when not a finite, non-negative number.
std::string format_duration(double seconds);

// "1 trial", "2 trials", "0 trials": a count with its noun, plural by adding "s".
std::string count_text(long long count, const std::string& noun);

// Columns printed text may use on `out`: $COLUMNS when it is a positive number, else the
// terminal's width when `out` is one, else kDefaultOutputWidth (a pipe or a file: 100 columns
// read well in a pager and in most editors, where 80 would wrap tree-space tables often).
constexpr int kDefaultOutputWidth = 100;
int output_width(std::FILE* out);

}  // namespace hpsearch
