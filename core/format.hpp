#pragma once
// How durations and counts read wherever hpsearch prints them: the progress lines, the summaries.
#include <string>

namespace hpsearch {

// "1:02:03", "02:03", or "4.20s" under a minute; "?" when not a finite, non-negative number.
std::string format_duration(double seconds);

// "1 trial", "2 trials", "0 trials": a count with its noun, plural by adding "s".
std::string count_text(long long count, const std::string& noun);

}  // namespace hpsearch
