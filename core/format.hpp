#pragma once
// How durations read wherever hpsearch prints them: the live progress line and the summaries.
#include <string>

namespace hpsearch {

// "1:02:03", "02:03", or "4.20s" under a minute; "?" when not a finite, non-negative number.
std::string format_duration(double seconds);

}  // namespace hpsearch
