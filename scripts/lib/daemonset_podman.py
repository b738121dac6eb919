#!/usr/bin/env python3
"""Reads deploy/kubernetes/, checks the promises the DaemonSet makes, and
prints the `podman run` options that run its container the same way, one per
line, then a line "--", then the container's arguments, one per line.

    daemonset_podman.py DIR NODE_NAME [--host-path FROM=TO]...

Every YAML file in DIR must parse, and kustomization.yaml must name files that
exist. The DaemonSet's container must be unprivileged, drop every capability
and add exactly BPF, PERFMON and NET_ADMIN, use hostPID, mount BTF, bpffs and
cgroup read-only, expose a port named "metrics", set requests and limits, take
NODE_NAME from spec.nodeName and keep the query socket on a hostPath; anything
else is an error naming what is wrong. Kubernetes adds what podman cannot
(the downward API): NODE_NAME is given here. --host-path swaps a hostPath for
a directory of the caller's, so that a check does not touch the node's own.
"""

import json
import pathlib
import sys

import yaml

REQUIRED_CAPABILITIES = ["BPF", "PERFMON", "NET_ADMIN"]
READ_ONLY_HOST_PATHS = ["/sys/kernel/btf", "/sys/fs/bpf", "/sys/fs/cgroup"]
SOCKET_HOST_PATH = "/run/rstwatch"


class ManifestError(Exception):
	pass


def require(condition, message):
	if not condition:
		raise ManifestError(message)


def load_documents(directory):
	documents = []
	for path in sorted(directory.glob("*.yaml")):
		try:
			for document in yaml.safe_load_all(path.read_text()):
				if document is not None:
					documents.append((path.name, document))
		except yaml.YAMLError as error:
			raise ManifestError(f"{path.name}: not valid YAML: {error}")
	for name, document in documents:
		require(isinstance(document, dict) and "kind" in document and "apiVersion" in document,
		        f"{name}: a document without kind and apiVersion")
		if document["kind"] == "Kustomization":
			for resource in document.get("resources", []):
				require((directory / resource).is_file(),
				        f"{name}: resource {resource} does not exist")
	return documents


def find_daemonset(documents):
	daemonsets = [d for _, d in documents if d["kind"] == "DaemonSet"]
	require(len(daemonsets) == 1, f"expected one DaemonSet, found {len(daemonsets)}")
	return daemonsets[0]


def memory_option(quantity):
	units = {"Ki": "k", "Mi": "m", "Gi": "g"}
	for suffix, unit in units.items():
		if quantity.endswith(suffix):
			return quantity[: -len(suffix)] + unit
	require(quantity.isdigit(), f"memory limit {quantity}: use Ki, Mi, Gi or bytes")
	return quantity


def cpu_option(quantity):
	quantity = str(quantity)
	if quantity.endswith("m"):
		return str(int(quantity[:-1]) / 1000)
	return str(float(quantity))


def check_security(container, pod):
	context = container.get("securityContext", {})
	require(context.get("privileged") is False, "the container must say privileged: false")
	capabilities = context.get("capabilities", {})
	require(capabilities.get("drop") == ["ALL"], "the container must drop ALL capabilities")
	require(sorted(capabilities.get("add", [])) == sorted(REQUIRED_CAPABILITIES),
	        f"the container must add exactly {REQUIRED_CAPABILITIES}, "
	        f"not {capabilities.get('add')}")
	require(pod.get("hostPID") is True, "the pod must use hostPID, or owners do not resolve")
	return context


def security_options(context):
	options = ["--cap-drop=all"]
	options += [f"--cap-add=CAP_{name}" for name in context["capabilities"]["add"]]
	options.append("--pid=host")
	if context.get("allowPrivilegeEscalation") is False:
		options.append("--security-opt=no-new-privileges")
	if context.get("readOnlyRootFilesystem"):
		# Kubernetes puts no tmpfs on /run or /tmp; podman would.
		options += ["--read-only", "--read-only-tmpfs=false"]
	if "runAsUser" in context:
		options.append(f"--user={context['runAsUser']}:{context.get('runAsGroup', 0)}")
	seccomp = context.get("seccompProfile", {}).get("type", "RuntimeDefault")
	require(seccomp in ("Unconfined", "RuntimeDefault"), f"seccompProfile {seccomp}: unsupported")
	if seccomp == "Unconfined":
		options.append("--security-opt=seccomp=unconfined")
	return options


def volume_options(container, pod, host_paths):
	volumes = {volume["name"]: volume for volume in pod.get("volumes", [])}
	options, read_only, socket_mounted = [], set(), False
	for mount in container.get("volumeMounts", []):
		volume = volumes.get(mount["name"])
		require(volume and "hostPath" in volume,
		        f"volumeMount {mount['name']}: no hostPath volume of that name")
		source = volume["hostPath"]["path"]
		if mount.get("readOnly"):
			read_only.add(source)
		if source == SOCKET_HOST_PATH:
			require(not mount.get("readOnly"), f"{SOCKET_HOST_PATH} must be writable")
			require(mount["mountPath"] == SOCKET_HOST_PATH,
			        f"{SOCKET_HOST_PATH} must be mounted at the same path, where "
			        "rstwatch looks by default")
			socket_mounted = True
		source = host_paths.get(source, source)
		suffix = ":ro" if mount.get("readOnly") else ""
		options.append(f"--volume={source}:{mount['mountPath']}{suffix}")
	for path in READ_ONLY_HOST_PATHS:
		require(path in read_only, f"{path} must be mounted read-only")
	require(socket_mounted, f"the query socket needs hostPath {SOCKET_HOST_PATH}")
	return options


def environment_options(container, node_name):
	options, node_name_set = [], False
	for variable in container.get("env", []):
		if "value" in variable:
			options.append(f"--env={variable['name']}={variable['value']}")
			continue
		field = variable.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
		require(variable["name"] == "NODE_NAME" and field == "spec.nodeName",
		        f"env {variable['name']}: only NODE_NAME from spec.nodeName is supported")
		options.append(f"--env=NODE_NAME={node_name}")
		node_name_set = True
	require(node_name_set, "NODE_NAME must come from spec.nodeName (the downward API)")
	return options


def resource_options(container):
	resources = container.get("resources", {})
	requests, limits = resources.get("requests", {}), resources.get("limits", {})
	for kind in ("cpu", "memory"):
		require(kind in requests and kind in limits, f"resources: {kind} needs a request and a limit")
	return [f"--memory={memory_option(limits['memory'])}", f"--cpus={cpu_option(limits['cpu'])}"]


def podman_arguments(directory, node_name, host_paths):
	daemonset = find_daemonset(load_documents(directory))
	pod = daemonset["spec"]["template"]["spec"]
	require(len(pod["containers"]) == 1, "expected one container")
	container = pod["containers"][0]
	ports = [port for port in container.get("ports", []) if port.get("name") == "metrics"]
	require(ports, "the container must expose a port named metrics")
	options = security_options(check_security(container, pod))
	options += volume_options(container, pod, host_paths)
	options += environment_options(container, node_name)
	options += resource_options(container)
	if "command" in container:
		options.append(f"--entrypoint={json.dumps(container['command'])}")
	return options, container.get("args", [])


def main(argv):
	if len(argv) < 3:
		sys.exit("usage: daemonset_podman.py DIR NODE_NAME [--host-path FROM=TO]...")
	host_paths = {}
	rest = argv[3:]
	while rest:
		require(rest[0] == "--host-path" and len(rest) > 1 and "=" in rest[1],
		        f"unexpected argument {rest[0]}")
		source, target = rest[1].split("=", 1)
		host_paths[source] = target
		rest = rest[2:]
	options, args = podman_arguments(pathlib.Path(argv[1]), argv[2], host_paths)
	print("\n".join(options + ["--"] + args))


if __name__ == "__main__":
	try:
		main(sys.argv)
	except ManifestError as error:
		sys.exit(f"deploy/kubernetes: {error}")
