// One storm thread's work: each call to run() makes `count` resets happen
// with one of the modes, and tallies what it saw.
#pragma once

#include "storm_options.h"

#include <netinet/in.h>

#include <cstdint>
#include <memory>
#include <string>

namespace rstwatch::bench
{

struct StormTally {
	uint64_t operations = 0;
	// Resets the generator's own sockets saw arrive (ECONNREFUSED or
	// ECONNRESET): the received side, counted without any tracer.
	uint64_t resets_received = 0;
	uint64_t failures = 0;
	std::string first_failure;

	void fail(const std::string &what);
	void add(const StormTally &other);
};

class StormWorker
{
public:
	virtual ~StormWorker() = default;
	virtual void run(uint64_t count, StormTally &tally) = 0;
	// Operations worth doing between two looks at the clock.
	virtual uint64_t batch() const { return 16; }
};

// A port on `address` that is bound (so nothing else can listen on it) but
// not listening: every SYN to it is refused.
class ClosedPort
{
public:
	explicit ClosedPort(in_addr address);
	~ClosedPort();
	ClosedPort(const ClosedPort &) = delete;
	ClosedPort &operator=(const ClosedPort &) = delete;
	const sockaddr_in &address() const { return address_; }

private:
	int fd_ = -1;
	sockaddr_in address_{};
};

std::unique_ptr<StormWorker> make_worker(const StormOptions &options, const ClosedPort &closed,
                                         unsigned thread_index);

} // namespace rstwatch::bench
