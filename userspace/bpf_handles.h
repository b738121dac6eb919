// RAII owners for libbpf objects and file descriptors. Every libbpf resource
// rstwatchd holds lives in one of these, so an early error path can never leak
// an attached program or a ring buffer.
#pragma once

#include <bpf/libbpf.h>
#include <unistd.h>

#include <memory>
#include <utility>

namespace rstwatch {

template <typename T, void (*Destroy)(T *)>
struct LibbpfDeleter {
	void operator()(T *object) const noexcept
	{
		if (object)
			Destroy(object);
	}
};

inline void destroy_link(bpf_link *link)
{
	bpf_link__destroy(link);
}

using LinkPtr = std::unique_ptr<bpf_link, LibbpfDeleter<bpf_link, destroy_link>>;
using RingBufferPtr = std::unique_ptr<ring_buffer, LibbpfDeleter<ring_buffer, ring_buffer__free>>;

// Move-only file descriptor.
class UniqueFd {
public:
	UniqueFd() = default;
	explicit UniqueFd(int fd) : fd_(fd) {}
	UniqueFd(UniqueFd &&other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
	UniqueFd &operator=(UniqueFd &&other) noexcept
	{
		if (this != &other)
			reset(std::exchange(other.fd_, -1));
		return *this;
	}
	UniqueFd(const UniqueFd &) = delete;
	UniqueFd &operator=(const UniqueFd &) = delete;
	~UniqueFd() { reset(); }

	int get() const { return fd_; }
	explicit operator bool() const { return fd_ >= 0; }
	int release() { return std::exchange(fd_, -1); }
	void reset(int fd = -1)
	{
		if (fd_ >= 0)
			::close(fd_);
		fd_ = fd;
	}

private:
	int fd_ = -1;
};

} // namespace rstwatch
