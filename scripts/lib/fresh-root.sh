# shellcheck shell=bash
# Pristine Debian bookworm roots (debootstrap --variant=minbase) for the checks
# that prove an install on a fresh machine. Sourced, not run.
#
#   fresh_root_create DIR      unpack the cached minbase tarball into DIR
#                              (bootstrapping it first when there is none) and
#                              give DIR this machine's apt sources and resolver
#   fresh_root_exec [--exec] [--own-net] DIR CMD..
#                              run CMD as root inside DIR, in a private mount
#                              namespace with /proc, /sys and /dev bound in;
#                              --own-net adds a network namespace of its own
#                              with loopback up; --exec replaces the calling
#                              (sub)shell, so its pid ends up being CMD's
#   fresh_root_remove DIR      delete DIR, refusing while anything is mounted
#                              under it
#
# The tarball is cached in $RSTWATCH_FRESH_CACHE (default
# /var/cache/rstwatch/fresh-root), keyed by suite, architecture and mirror, so
# only the first run pays for debootstrap.

fresh_suite=bookworm
fresh_cache=${RSTWATCH_FRESH_CACHE:-/var/cache/rstwatch/fresh-root}

fresh_say() { printf '%s: %s\n' "${fresh_name:-fresh-root}" "$*" >&2; }
fresh_die() {
	fresh_say "$*"
	exit 1
}

# The Debian mirror this machine's own apt uses for the suite's main component.
fresh_mirror() {
	apt-get indextargets --format '$(SITE) $(RELEASE) $(COMPONENT)' 'Identifier: Packages' |
		awk -v suite="$fresh_suite" '$2 == suite && $3 == "main" { print $1; exit }'
}

# Prints the cached tarball's path, bootstrapping it first when it is missing.
fresh_tarball() {
	local mirror arch key tarball staging
	mirror=$(fresh_mirror)
	[ -n "$mirror" ] || fresh_die "this machine's apt has no source for $fresh_suite main: cannot bootstrap"
	arch=$(dpkg --print-architecture)
	key=$(printf '%s' "$mirror" | sha1sum | cut -c1-8)
	tarball=$fresh_cache/$fresh_suite-minbase-$arch-$key.tar.zst
	if [ -s "$tarball" ]; then
		echo "$tarball"
		return
	fi
	mkdir -p "$fresh_cache"
	staging=$(mktemp -d "$fresh_cache/bootstrap.XXXXXX")
	fresh_say "debootstrap --variant=minbase $fresh_suite from $mirror (cached afterwards in $tarball)"
	if ! debootstrap --variant=minbase --arch="$arch" "$fresh_suite" "$staging/root" "$mirror" \
		>"$staging/debootstrap.log" 2>&1; then
		tail -n 20 "$staging/debootstrap.log" >&2
		rm -rf "$staging"
		fresh_die "debootstrap failed (log above)"
	fi
	tar --numeric-owner -C "$staging/root" -c . | zstd -q -T0 -3 -o "$staging/root.tar.zst"
	mv "$staging/root.tar.zst" "$tarball"
	rm -rf "$staging"
	echo "$tarball"
}

# Copies the files the host's apt reads its sources from, with the keyrings
# they name, and the Acquire settings (proxies, validity checks) that make
# those sources reachable from here.
fresh_copy_apt_config() {
	local root=$1 file keyring
	rm -f "$root/etc/apt/sources.list"
	for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[ -f "$file" ] || continue
		install -D -m 0644 "$file" "$root$file"
		for keyring in $(grep -ohiE '(signed-by[:=] *)/[^] ]+' "$file" | sed -E 's/^[^/]*//'); do
			[ -f "$keyring" ] && [ ! -e "$root$keyring" ] && install -D -m 0644 "$keyring" "$root$keyring"
		done
	done
	for file in /etc/apt/apt.conf /etc/apt/apt.conf.d/*; do
		[ -f "$file" ] && grep -q '^[[:space:]]*Acquire' "$file" && install -D -m 0644 "$file" "$root$file"
	done
	return 0
}

fresh_root_create() {
	local root=$1 tarball
	tarball=$(fresh_tarball)
	mkdir -p "$root"
	zstd -q -d -c "$tarball" | tar --numeric-owner -xp -C "$root"
	fresh_copy_apt_config "$root"
	cp /etc/hosts "$root/etc/hosts"
	[ -e /etc/resolv.conf ] && cp -L /etc/resolv.conf "$root/etc/resolv.conf"
	return 0
}

# The mounts live in a mount namespace of their own: they vanish with the
# command, whatever way it ends, and the host never sees them.
fresh_root_exec() {
	local namespaces=(--mount) own_net=0 replace=()
	if [ "$1" = --exec ]; then
		replace=(exec)
		shift
	fi
	if [ "$1" = --own-net ]; then
		namespaces+=(--net)
		own_net=1
		shift
	fi
	local root=$1
	shift
	"${replace[@]}" unshare "${namespaces[@]}" --propagation private -- /bin/bash -c '
		set -e
		own_net=$1 root=$2
		shift 2
		[ "$own_net" = 0 ] || ip link set lo up
		# The root is a mount point of its own, as / is on a machine:
		# `ip netns exec` makes / a slave mount and fails otherwise.
		mount --bind "$root" "$root"
		for fs in proc sys dev; do
			mount --rbind "/$fs" "$root/$fs"
		done
		exec chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
			PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
	' fresh-root "$own_net" "$root" "$@"
}

fresh_root_remove() {
	local root=$1
	[ -n "$root" ] && [ -d "$root" ] || return 0
	if findmnt -rn -o TARGET | grep -q "^$root/"; then
		fresh_say "not removing $root: something is still mounted under it"
		return 1
	fi
	rm -rf --one-file-system "$root"
}
