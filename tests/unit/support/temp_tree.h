// A directory tree made by a unit test (a /proc, a config file), removed with
// everything in it when the object goes.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace rstwatch::test
{

class TempTree
{
public:
	TempTree()
	{
		std::string pattern =
		    (std::filesystem::temp_directory_path() / "rstwatch-unit.XXXXXX").string();
		if (!mkdtemp(pattern.data()))
			throw std::runtime_error("mkdtemp failed for " + pattern);
		path_ = pattern;
	}
	~TempTree()
	{
		std::error_code ignored;
		std::filesystem::remove_all(path_, ignored);
	}
	TempTree(const TempTree &) = delete;
	TempTree &operator=(const TempTree &) = delete;

	const std::string &path() const { return path_; }
	// Writes `text` to `relative`, making the directories it needs.
	void write(const std::string &relative, const std::string &text) const
	{
		std::filesystem::path file = std::filesystem::path(path_) / relative;
		std::filesystem::create_directories(file.parent_path());
		std::ofstream(file) << text;
	}

private:
	std::string path_;
};

} // namespace rstwatch::test
