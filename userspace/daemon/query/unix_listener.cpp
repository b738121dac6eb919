#include "daemon/query/unix_listener.h"

#include "common/error.h"
#include "common/log.h"
#include "common/unix_address.h"

#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <vector>

namespace rstwatch
{

namespace
{

constexpr int kBacklog = 64;

std::optional<gid_t> find_group(const std::string &name)
{
	if (name.empty())
		return std::nullopt;
	std::vector<char> buffer(4096);
	group entry{};
	group *found = nullptr;
	while (getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found) == ERANGE &&
	       buffer.size() < (1u << 20))
		buffer.resize(buffer.size() * 2);
	if (!found)
		return std::nullopt;
	return found->gr_gid;
}

// The runtime directory: created 0750 when missing. An existing one that is
// ours and closed to others (systemd's RuntimeDirectory=, root:root 0750) is
// given to the socket group so its members can reach the socket; any other
// existing directory (/tmp, /run) is left exactly as it is.
void prepare_directory(const std::filesystem::path &directory, std::optional<gid_t> group)
{
	struct stat info {
	};
	if (stat(directory.c_str(), &info) == 0) {
		if (!S_ISDIR(info.st_mode))
			throw Error("query socket directory " + directory.string() +
			            " exists and is not a directory");
		bool private_to_us = info.st_uid == geteuid() && (info.st_mode & 0007) == 0;
		if (group && private_to_us && info.st_gid != *group) {
			if (chown(directory.c_str(), static_cast<uid_t>(-1), *group) != 0 ||
			    chmod(directory.c_str(), (info.st_mode & 07777) | 0050) != 0)
				log::warning("cannot give " + directory.string() +
				             " to the socket group: " + errno_text(errno));
		}
		return;
	}
	if (errno != ENOENT)
		throw Error("cannot inspect query socket directory " + directory.string() + ": " +
		            errno_text(errno));
	// Only the last component, as for /run/rstwatch: a path whose parent is
	// missing is more likely a typo than a tree to build.
	if (mkdir(directory.c_str(), 0750) != 0 && errno != EEXIST) {
		if (errno == ENOENT)
			throw Error("cannot create query socket directory " + directory.string() +
			            ": " + directory.parent_path().string() +
			            " does not exist (rstwatchd creates only the socket's own "
			            "directory)");
		throw Error("cannot create query socket directory " + directory.string() + ": " +
		            errno_text(errno));
	}
	// mkdir applies the umask; the mode must not depend on it.
	if (chmod(directory.c_str(), 0750) != 0)
		throw Error("cannot set the mode of " + directory.string() + ": " +
		            errno_text(errno));
	if (group && chown(directory.c_str(), static_cast<uid_t>(-1), *group) != 0)
		log::warning("cannot give " + directory.string() +
		             " to the socket group: " + errno_text(errno));
}

// A socket file left by a daemon that did not exit cleanly is removed; one
// that still answers belongs to a running daemon and is left alone.
void remove_stale_socket(const std::string &path, const sockaddr_un &address)
{
	struct stat info {
	};
	if (lstat(path.c_str(), &info) != 0)
		return;
	if (!S_ISSOCK(info.st_mode))
		throw Error(path + " exists and is not a socket; refusing to replace it");
	UniqueFd probe(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
	if (probe && connect(probe.get(), reinterpret_cast<const sockaddr *>(&address),
	                     sizeof(address)) == 0)
		throw Error("another rstwatchd is already answering on " + path);
	if (unlink(path.c_str()) != 0 && errno != ENOENT)
		throw Error("cannot remove the stale socket " + path + ": " + errno_text(errno));
}

} // namespace

UnixListener::UnixListener(const std::string &path, const std::string &group) : path_(path)
{
	// The settings refuse such a path already; this keeps the copy into
	// sun_path safe whoever constructs a listener.
	std::optional<sockaddr_un> address = unix_socket_address(path);
	if (!address)
		throw Error("query socket path " + path + " is too long for a unix socket");
	group_ = find_group(group);
	if (group_)
		group_name_ = group;

	std::filesystem::path socket_path(path);
	prepare_directory(socket_path.parent_path(), group_);
	remove_stale_socket(path, *address);

	fd_.reset(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
	if (!fd_)
		throw Error("cannot create the query socket: " + errno_text(errno));
	if (bind(fd_.get(), reinterpret_cast<sockaddr *>(&*address), sizeof(*address)) != 0)
		throw Error("cannot bind the query socket " + path + ": " + errno_text(errno));
	// Until listen() nobody can connect, so the file's mode and group are
	// right before the first client can reach it, whatever the umask was.
	if (chmod(path.c_str(), 0660) != 0)
		throw Error("cannot set the mode of " + path + ": " + errno_text(errno));
	if (group_ && chown(path.c_str(), static_cast<uid_t>(-1), *group_) != 0) {
		log::warning("cannot give " + path + " to group " + group + " (" +
		             errno_text(errno) + "): only root can query");
		group_.reset();
		group_name_.clear();
	}
	struct stat info {
	};
	if (lstat(path.c_str(), &info) == 0) {
		socket_dev_ = info.st_dev;
		socket_ino_ = info.st_ino;
	}
	if (listen(fd_.get(), kBacklog) != 0)
		throw Error("cannot listen on " + path + ": " + errno_text(errno));
}

UnixListener::~UnixListener()
{
	// Only our own socket: a daemon started after us may own the path now.
	struct stat info {
	};
	if (lstat(path_.c_str(), &info) == 0 && info.st_dev == socket_dev_ &&
	    info.st_ino == socket_ino_)
		unlink(path_.c_str());
}

bool UnixListener::peer_allowed(int fd, uid_t uid, gid_t gid) const
{
	if (uid == 0 || uid == geteuid())
		return true;
	if (!group_)
		return false;
	if (gid == *group_)
		return true;
	std::vector<gid_t> groups(64);
	socklen_t length = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &length) != 0) {
		if (errno != ERANGE)
			return false;
		groups.resize(length / sizeof(gid_t));
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &length) != 0)
			return false;
	}
	groups.resize(length / sizeof(gid_t));
	return std::find(groups.begin(), groups.end(), *group_) != groups.end();
}

} // namespace rstwatch
