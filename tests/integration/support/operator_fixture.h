// The fixture the operator suites derive from. Every test needs root to load
// the BPF programs: outside CI a test without it skips, saying so; in CI it
// fails. A suite may share one rstwatchd among its tests.
#pragma once

#include "operator_daemon.h"
#include "test_support.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <memory>
#include <string>

namespace rstwatch::test
{

class OperatorTest : public ::testing::Test
{
protected:
	// From a suite's SetUpTestSuite. A daemon that cannot start fails
	// every test of the suite with the reason, in CI and outside it.
	static void start_suite_daemon(const std::string &name,
	                               const OperatorDaemon::Options &options)
	{
		if (geteuid() != 0)
			return;
		daemon_ = std::make_unique<OperatorDaemon>(name);
		if (!daemon_->start(options))
			start_error_ = daemon_->error();
	}

	static void TearDownTestSuite()
	{
		if (daemon_ && start_error_.empty()) {
			CommandResult result = daemon_->stop();
			EXPECT_EQ(result.exit_code, 0) << result.err;
		}
		daemon_.reset();
		start_error_.clear();
	}

	void SetUp() override
	{
		if (geteuid() != 0) {
			if (running_in_ci())
				FAIL() << "integration tests need root in CI";
			GTEST_SKIP() << "skipping: integration tests need root";
		}
		ASSERT_TRUE(start_error_.empty()) << start_error_;
	}

	// The suite's daemon; null in suites whose tests start their own.
	// gtest runs one suite at a time, so the suites share this storage,
	// never a daemon.
	static inline std::unique_ptr<OperatorDaemon> daemon_;
	static inline std::string start_error_;
};

} // namespace rstwatch::test
