// The prose of rstwatchd(8) and rstwatch(1) that no option definition holds:
// signals, exit status, environment, files, examples.
#pragma once

#include "docgen/man_page.h"

#include <string>

namespace rstwatch::docgen
{

ManPageText daemon_page(const std::string &version);
ManPageText client_page(const std::string &version);

} // namespace rstwatch::docgen
