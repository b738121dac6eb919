// rstwatchd refuses to start with one clear line and a non-zero exit code
// when the kernel or the caller cannot support it.
#include "support/daemon_process.h"
#include "support/test_support.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace rstwatch::test
{
namespace
{

size_t line_count(const std::string &text)
{
	return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

// A valid BTF blob that describes nothing but `int`: a kernel with BTF but
// without any of the tracepoints rstwatch needs.
std::string write_minimal_btf()
{
	struct {
		uint16_t magic = 0xeB9F;
		uint8_t version = 1, flags = 0;
		uint32_t hdr_len = 24, type_off = 0, type_len = 16, str_off = 16, str_len = 5;
	} header;
	const uint32_t int_type[4] = {1, 1u << 24 /* BTF_KIND_INT */, 4, 32 /* bits */};
	const char strings[5] = {'\0', 'i', 'n', 't', '\0'};
	std::string path = "/tmp/rstwatch-test-minimal-" + std::to_string(getpid()) + ".btf";
	FILE *file = fopen(path.c_str(), "wb");
	fwrite(&header, sizeof(header), 1, file);
	fwrite(int_type, sizeof(int_type), 1, file);
	fwrite(strings, sizeof(strings), 1, file);
	fclose(file);
	return path;
}

TEST(StartupErrors, MissingBtfNamesThePath)
{
	CommandResult result = run_command({rstwatchd_path(), "--btf", "/nonexistent/vmlinux"});
	EXPECT_EQ(result.exit_code, 1);
	EXPECT_EQ(line_count(result.err), 1u) << result.err;
	EXPECT_NE(result.err.find("kernel BTF not found at /nonexistent/vmlinux"),
	          std::string::npos)
	    << result.err;
}

TEST(StartupErrors, MissingTracepointNamesIt)
{
	std::string btf = write_minimal_btf();
	CommandResult result =
	    run_command({rstwatchd_path(), "--btf", btf, "--hook-variant", "tp_btf"});
	unlink(btf.c_str());
	EXPECT_EQ(result.exit_code, 1);
	EXPECT_EQ(line_count(result.err), 1u) << result.err;
	EXPECT_NE(result.err.find("tcp:tcp_send_reset"), std::string::npos) << result.err;
}

TEST(StartupErrors, WithoutPrivilegesSaysPermissionDenied)
{
	if (geteuid() != 0) {
		if (running_in_ci())
			FAIL() << "needs root to drop to an unprivileged user";
		GTEST_SKIP() << "skipping: needs root to drop to an unprivileged user";
	}
	CommandResult result =
	    run_command({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
	                 "--inh-caps=-all", "--bounding-set=-all", rstwatchd_path()});
	EXPECT_EQ(result.exit_code, 1);
	EXPECT_EQ(line_count(result.err), 1u) << result.err;
	EXPECT_NE(result.err.find("permission denied"), std::string::npos) << result.err;
}

TEST(StartupErrors, UnknownHookVariantIsAUsageError)
{
	CommandResult result = run_command({rstwatchd_path(), "--hook-variant", "kprobe"});
	EXPECT_EQ(result.exit_code, 2);
	EXPECT_NE(result.err.find("--hook-variant"), std::string::npos) << result.err;
}

} // namespace
} // namespace rstwatch::test
