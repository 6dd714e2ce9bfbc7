#!/usr/bin/python3
"""kube_pod.py DAEMONSET CONFIGMAP HOST_ROOT HUGEPAGES_DIR POD_NAME: print, for `podman kube play`,
the DaemonSet's pod template as a Pod, after the ConfigMap it mounts.

Debian 12's podman 4.3 plays Pods and Deployments, not DaemonSets, so the test takes the
pod template out of config/k8s/daemonset.yaml itself (the very file, read at test time)
and changes only what a test on a shared machine must:
  - every hostPath moves under HOST_ROOT (the test's own /etc/cni/net.d, /opt/cni/bin,
    /run/podswitch, /var/lib/podswitch...), except device nodes (/dev/net/tun) and
    /run/netns, where the machine's network namespaces are (the test's pods are there);
  - the emptyDir of medium HugePages becomes HUGEPAGES_DIR, a hugetlbfs the test mounted
    for this pod alone (the kubelet mounts one per pod the same way; podman 4.3 has no
    such medium);
  - restartPolicy OnFailure (podman 4.3 restarts a finished init container under Always);
  - the pod is named POD_NAME (one per test run; podman's names are machine-wide).
Everything else (containers, init container, commands, env, capabilities, probes, mounts)
is the file's.
"""
import sys

import yaml


def main():
    ds_path, cm_path, root, hugepages, name = sys.argv[1:6]
    with open(ds_path) as f:
        ds = yaml.safe_load(f)
    with open(cm_path) as f:
        cm = yaml.safe_load(f)
    if ds.get("kind") != "DaemonSet":
        sys.exit(f"{ds_path}: not a DaemonSet")
    tmpl = ds["spec"]["template"]
    spec = tmpl["spec"]
    # podman 4.3 applies the pod's restart policy to init containers too: under a
    # DaemonSet's (Always) it restarts the finished installer over and over.
    spec["restartPolicy"] = "OnFailure"
    for v in spec.get("volumes", []):
        hp = v.get("hostPath")
        if hp and hp.get("type") not in ("CharDevice", "BlockDevice") and hp["path"] != "/run/netns":
            hp["path"] = root.rstrip("/") + hp["path"]
        ed = v.get("emptyDir")
        if ed is not None and ed.get("medium") == "HugePages":
            del v["emptyDir"]
            v["hostPath"] = {"path": hugepages, "type": "Directory"}
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": tmpl["metadata"].get("labels", {})},
        "spec": spec,
    }
    yaml.safe_dump_all([cm, pod], sys.stdout, sort_keys=False)


if __name__ == "__main__":
    main()
