// RAII owners for libbpf objects and file descriptors. Every libbpf resource
// rstwatchd holds lives in one of these, so an early error path can never leak
// an attached program or a ring buffer.
#pragma once

#include "common/unique_fd.h"

#include <bpf/libbpf.h>

#include <memory>
#include <utility>

namespace rstwatch
{

template <typename T, void (*Destroy)(T *)> struct LibbpfDeleter {
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

} // namespace rstwatch
