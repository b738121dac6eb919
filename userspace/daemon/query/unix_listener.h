// The query socket's listening end. Who may connect is settled here twice:
// by the file (mode 0660 in a 0750 directory, both given to the socket
// group) and by each peer's credentials, since a loosened mode must not let
// anyone else in.
#pragma once

#include "common/unique_fd.h"

#include <sys/types.h>

#include <optional>
#include <string>

namespace rstwatch
{

class UnixListener
{
public:
	// Creates the socket (and its directory, 0750, when missing), owned by
	// `group` when that group exists, mode 0660, and listens, non-blocking.
	// A socket file left by a daemon that is gone is replaced; one that a
	// running daemon answers on is not. Throws Error.
	UnixListener(const std::string &path, const std::string &group);
	// Removes the socket file, unless another daemon has replaced it since.
	~UnixListener();
	UnixListener(const UnixListener &) = delete;
	UnixListener &operator=(const UnixListener &) = delete;

	int fd() const { return fd_.get(); }
	const std::string &path() const { return path_; }
	// Empty when the group does not exist or could not be given the
	// socket (then only root and rstwatchd's own user may query).
	const std::string &group() const { return group_name_; }
	// Root, rstwatchd's own user and members of the group, primary or
	// supplementary (SO_PEERGROUPS on the connected `fd`).
	bool peer_allowed(int fd, uid_t uid, gid_t gid) const;

private:
	std::string path_;
	std::string group_name_;
	std::optional<gid_t> group_;
	UniqueFd fd_;
	dev_t socket_dev_ = 0;
	ino_t socket_ino_ = 0;
};

} // namespace rstwatch
