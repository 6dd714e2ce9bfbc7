#!/usr/bin/env python3
"""check_layers.py SRC: the rules of the house (../shared/DESIGN.md, "Rooms"), run by
`make test` (meson test lint_layers). Exit 0 when all hold, else 1 with one line per break.

1. Layers. Every folder includes only from itself and the folders below it in LAYERS;
   so there is no include circle between folders, and a new feature folder is placed by
   adding it to the list once.
2. The data path stays free of JSON, RPC and system calls: no file under switch/datapath/
   and no *_dp.c includes jansson.h or an rpc*.h header (directly or through the
   project's headers it includes), or calls a system call, a logging or a stdio function.
   core/ includes no jansson.h either (both threads use it).
3. No C source or header outside tests/ is over 800 lines.
"""
import os
import re
import sys

# Lowest first. ctl/ is the shared JSON-RPC library; cni/ and the switch/ top (main.c,
# config.c) are programs on top. Feature folders (tunnel/, neigh/, conntrack/ ...) go
# between l2/flow and datapath/: their *_dp.c stages are called by datapath/pipeline.c.
LAYERS = ["ctl", "core", "port", "backends", "l2", "flow", "neigh", "tunnel", "datapath",
          "control", "switch", "cni"]
# Folders that may sit side by side (neither includes the other).
FOLDER_OF_PREFIX = {"switch/" + d: d for d in
                    ["core", "datapath", "flow", "l2", "port", "control", "neigh", "tunnel"]}
MAX_LINES = 800

# System calls and what ends in one (logging, stdio, sleeping, locks that sleep).
SYSCALLS = """open openat close read write pread pwrite readv writev ioctl fcntl mmap munmap
madvise mprotect mlock socket connect bind listen accept accept4 send sendto sendmsg recv
recvfrom recvmsg epoll_create epoll_create1 epoll_ctl epoll_wait poll ppoll select
pselect nanosleep usleep sleep clock_nanosleep clock_gettime gettimeofday time fork vfork
execve execvp system kill raise signal sigaction syscall fopen fclose fprintf printf puts
fputs fwrite fread fflush vfprintf vprintf perror syslog openlog RTE_LOG rte_log
rte_log_vlog unlink rename mkdir rmdir stat fstat lstat eventfd timerfd_create getpid
sched_yield pthread_mutex_lock pthread_cond_wait sem_wait rte_delay_us rte_delay_ms
rte_delay_us_sleep""".split()
SYSCALL_RE = re.compile(r"(?<![\w.>])(" + "|".join(SYSCALLS) + r")\s*\(")
INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)


def folder_of(path):
    """The layer a file belongs to, or None for files outside the rules (tests...)."""
    for prefix, name in FOLDER_OF_PREFIX.items():
        if path.startswith(prefix + "/"):
            return name
    top = path.split("/")[0]
    if top == "switch":
        return "switch"
    if top in ("ctl", "backends", "cni"):
        return top
    return None


def strip(text):
    """Source without comments and string literals (so that text does not count)."""
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    return re.sub(r'"(?:\\.|[^"\\\n])*"', '""', text)


def resolve(src, path, name):
    """The project file a quoted include names, or None (system or DPDK headers)."""
    here = os.path.dirname(path)
    for base in (here, ".", "switch"):
        cand = os.path.normpath(os.path.join(base, name))
        if os.path.isfile(os.path.join(src, cand)):
            return cand
    return None


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else "."
    files = []
    for top in ("switch", "backends", "ctl", "cni"):
        for dirpath, _, names in os.walk(os.path.join(src, top)):
            for n in names:
                if n.endswith((".c", ".h")):
                    files.append(os.path.relpath(os.path.join(dirpath, n), src))
    files.sort()
    texts = {f: open(os.path.join(src, f), encoding="utf-8").read() for f in files}
    includes = {}
    problems = []

    for f, text in texts.items():
        includes[f] = []
        for kind, name in INCLUDE_RE.findall(strip_keep_includes(text)):
            target = resolve(src, f, name) if kind == '"' else None
            includes[f].append((name, target))

    rank = {name: i for i, name in enumerate(LAYERS)}
    edges = {}
    for f in files:
        a = folder_of(f)
        for name, target in includes[f]:
            if target is None:
                continue
            b = folder_of(target)
            if a is None or b is None or a == b:
                continue
            edges.setdefault((a, b), []).append(f)
            if rank[b] > rank[a]:
                problems.append("%s: includes %s from %s/, a layer above %s/ (LAYERS)"
                                % (f, name, b, a))

    def closure(f, seen):
        for name, target in includes.get(f, []):
            yield f, name
            if target is not None and target not in seen:
                seen.add(target)
                yield from closure(target, seen)

    for f in files:
        dp = f.startswith("switch/datapath/") or f.endswith("_dp.c")
        core = f.startswith("switch/core/")
        if not dp and not core:
            continue
        for via, name in closure(f, {f}):
            base = os.path.basename(name)
            if base == "jansson.h" or (dp and re.match(r"rpc.*\.h$", base)):
                how = "" if via == f else " (through %s)" % via
                problems.append("%s: includes %s%s: the %s stays free of JSON and RPC"
                                % (f, name, how, "data path" if dp else "core"))
        if dp:
            body = strip(texts[f])
            for m in SYSCALL_RE.finditer(body):
                line = body.count("\n", 0, m.start()) + 1
                problems.append("%s:%d: calls %s(): no system calls, logging or stdio on "
                                "the data path" % (f, line, m.group(1)))

    for f, text in texts.items():
        n = text.count("\n")
        if n > MAX_LINES:
            problems.append("%s: %d lines (at most %d: split it by stage or object)"
                            % (f, n, MAX_LINES))

    for p in sorted(set(problems)):
        print(p)
    layers = " < ".join(LAYERS)
    if problems:
        print("check_layers: %d problem(s); layers: %s" % (len(set(problems)), layers))
        return 1
    print("check_layers: %d files, %d folder edges, all downward (%s); data path clean"
          % (len(files), len(edges), layers))
    return 0


def strip_keep_includes(text):
    """Comments removed, include lines kept as they are."""
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


if __name__ == "__main__":
    sys.exit(main())
