# shellcheck shell=bash
# An apt repository of this machine's own runtime packages, so that an image
# build installs rstwatch's libraries without the network. Sourced, not run.
#
#   runtime_repo_create REPO ROOT BINARY..
#       REPO gets a flat repository (Packages, *.deb) of the packages that own
#       the shared libraries BINARY.. load here, less those the root ROOT
#       already holds at the same version. Each .deb is apt's own download
#       when apt's cache still has it, else dpkg-repack rebuilds it from the
#       installed files: the very versions the binaries were built against.
#   runtime_repo_use ROOT MOUNT
#       makes the repository at MOUNT (where a build mounts REPO) the root's
#       only apt source.
#
# Needs fresh-root.sh's fresh_say and fresh_die.

runtime_repo_packages() { # BINARY..: package:arch owning each library, once
	local library
	for library in $(ldd "$@" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | sort -u); do
		# /lib is a link to /usr/lib on bookworm; dpkg knows whichever the
		# package ships.
		dpkg-query -S "$library" 2>/dev/null || dpkg-query -S "/usr$library" 2>/dev/null ||
			fresh_die "no installed package owns $library"
	done | sed 's|: /.*||; s|, .*||; s|:[a-z0-9_]*$||' | sort -u
}

runtime_repo_create() {
	local repo=$1 root=$2 package version arch in_root file
	shift 2
	mkdir -p "$repo"
	for package in $(ldd "$@" >/dev/null && runtime_repo_packages "$@"); do
		version=$(dpkg-query -W -f '${Version}' "$package")
		in_root=$(dpkg-query --admindir="$root/var/lib/dpkg" -W -f '${db:Status-Status} ${Version}' \
			"$package" 2>/dev/null || true)
		[ "$in_root" != "installed $version" ] || continue
		arch=$(dpkg-query -W -f '${Architecture}' "$package")
		file=/var/cache/apt/archives/${package}_${version//:/%3a}_$arch.deb
		if [ -f "$file" ]; then
			cp "$file" "$repo/"
		else
			(cd "$repo" && dpkg-repack "$package" >/dev/null 2>&1) ||
				fresh_die "dpkg-repack $package failed"
		fi
	done
	(cd "$repo" && dpkg-scanpackages --multiversion . 2>/dev/null >Packages) ||
		fresh_die "dpkg-scanpackages failed in $repo"
	[ -s "$repo/Packages" ] || fresh_die "the runtime repository in $repo is empty"
}

runtime_repo_use() {
	local root=$1 mount=$2
	rm -f "$root"/etc/apt/sources.list "$root"/etc/apt/sources.list.d/*
	# trusted: apt has no signature for a repository made here, from
	# packages that are already installed on this machine.
	echo "deb [trusted=yes] file:$mount ./" >"$root/etc/apt/sources.list.d/rstwatch-runtime.list"
}
