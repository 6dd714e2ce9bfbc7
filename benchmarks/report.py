#!/usr/bin/python3
"""report.py: the tables, ratios and plots of a benchmark run (benchmarks/run.sh).

  report.py RESULTS.jsonl [--out DIR]

Reads the JSON lines run.sh wrote (one per measurement; "section" says which part), prints
the tables, and writes DIR/latest.md (the same tables in Markdown, with the machine) and,
with gnuplot installed, DIR/p2p.png and DIR/pvp.png (Mpps by flow count per system: the
median, bars from min to max). Every figure over rounds is "median (min-max)"; ratios are
paired: computed round by round between runs next to each other, then summarised.
"""
import argparse
import collections
import glob
import json
import os
import shutil
import statistics
import subprocess
import sys


def med(xs):
    return statistics.median(xs) if xs else None


def f1(x, fmt="%.1f"):
    return "-" if x is None else fmt % x


def spread(xs, fmt="%.1f"):
    """median (min-max) of xs."""
    if not xs:
        return "-"
    if len(xs) == 1:
        return fmt % xs[0]
    return (fmt + " (" + fmt + "-" + fmt + ")") % (med(xs), min(xs), max(xs))


class Out:
    """Text for the terminal and Markdown for latest.md, table by table."""

    def __init__(self):
        self.md = []

    def title(self, t, text=""):
        print("\n# " + t)
        if text:
            print("# " + text)
        self.md += ["", "## " + t, ""] + ([text, ""] if text else [])

    def para(self, text):
        print(text)
        self.md += [text, ""]

    def table(self, head, rows):
        w = [max(len(str(x)) for x in col) for col in zip(head, *rows)] if rows else [len(h) for h in head]
        print("  ".join(str(h).ljust(w[i]) for i, h in enumerate(head)))
        for r in rows:
            print("  ".join(str(x).ljust(w[i]) for i, x in enumerate(r)))
        self.md.append("| " + " | ".join(head) + " |")
        self.md.append("|" + "---|" * len(head))
        for r in rows:
            self.md.append("| " + " | ".join(str(x) for x in r) + " |")
        self.md.append("")


def load(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                rows.append(json.loads(line))
    return rows


def by(rows, *keys):
    d = collections.OrderedDict()
    for r in rows:
        d.setdefault(tuple(r.get(k) for k in keys), []).append(r)
    return d


def paired(a, b, key, invert=False):
    """Ratios a/b (or b/a) of key between rows of the same round."""
    ra = {r["round"]: r.get(key) for r in a}
    out = []
    for r in b:
        x, y = ra.get(r["round"]), r.get(key)
        if x and y:
            out.append(y / x if invert else x / y)
    return out


def machine(rows, o):
    m = next((r for r in rows if r["section"] == "machine"), {})
    e = next((r for r in rows if r["section"] == "end"), {})
    o.para("%s, %s CPUs, TSC %s MHz, kernel %s, DPDK %s, OVS %s; commit %s; %s; load average %s at the start, %s at the end; "
           "run took %s s; windows %s s after %s s of warm-up; %s PVP rounds, %s p2p/VXLAN rounds." % (
               m.get("cpu"), m.get("cpus"), m.get("tsc_mhz"), m.get("kernel"), m.get("dpdk"), m.get("ovs"),
               m.get("commit"), m.get("date"), m.get("load_start"), e.get("load_end", "-"),
               e.get("duration_s", "-"), m.get("window_s"), m.get("warmup_s"), m.get("rounds"),
               m.get("p2p_rounds")))


def noise(rows, o):
    """How much the machine's other work took from the measured PMDs."""
    shares = [r["cpu_share"] for r in rows if "cpu_share" in r and r.get("section") in ("p2p", "pvp", "vxlan")]
    pod = [r["pod_cpu_share"] for r in rows if "pod_cpu_share" in r]
    if not shares:
        return
    low = sum(1 for s in shares if s < 0.9)
    text = ("Noise: the measured PMD thread was on its CPU %s of each window (median; min %.0f%%); "
            "%d of %d windows below 90%%." % ("%.0f%%" % (100 * med(shares)), 100 * min(shares), low, len(shares)))
    if pod:
        text += " The PVP pod's forwarding thread: %.0f%% of a CPU (median; min %.0f%%)." % (100 * med(pod), 100 * min(pod))
    text += (" Cycles 'on CPU' divide the PMD's on-CPU time by packets and do not grow when another "
             "process takes the CPU; Mpps (wall) do.")
    o.para(text)


def p2p_table(rows, o, section, title):
    rs = [r for r in rows if r["section"] == section and r.get("packets") is not None]
    skipped = [r for r in rows if r["section"] == section and r.get("packets") is None]
    if not rs and not skipped:
        return {}
    o.title(title, "median (min-max) over rounds; cycles per packet on CPU; ratios paired by round (their cycles / ours)")
    g = by(rs, "system", "scenario", "flows")
    ovs_map = {"static": "normal"}
    rows_out = []
    summary = {}
    for (sysname, scen, flows), rr in g.items():
        cpu = [r["cycles_per_packet_cpu"] for r in rr]
        mpps = [r["mpps"] for r in rr]
        ovs = g.get(("ovs-dpdk", ovs_map.get(scen, scen), flows), [])
        tp = g.get(("testpmd", "io", flows), [])
        r_ovs = paired(ovs, rr, "cycles_per_packet_cpu") if sysname == "podswitchd" else []
        r_tp = paired(tp, rr, "cycles_per_packet_cpu") if sysname != "testpmd" else []
        notes = sorted(set(r["note"] for r in rr if r.get("note")))
        rows_out.append([sysname, scen, "{:,}".format(flows), spread(mpps, "%.2f"), spread(cpu),
                         f1(med([r["cycles_per_packet_own"] for r in rr])),
                         "%.0f%%" % (100 * med([r["cpu_share"] for r in rr])),
                         spread(r_ovs, "%.2f"), spread(r_tp, "%.2f"), "; ".join(notes)])
        summary[(sysname, scen, flows)] = {"mpps": med(mpps), "cpu": med(cpu), "r_ovs": med(r_ovs),
                                           "mpps_all": mpps}
    o.table(["system", "scenario", "flows", "Mpps (wall)", "cyc/pkt on CPU", "cyc/pkt own", "CPU share",
             "OVS/us", "testpmd/us", "note"], rows_out)
    for r in skipped:
        o.para("%s %s flows: %s" % (r["system"], "{:,}".format(r["flows"]), r.get("note")))
    for flows, target in ((1, 55), (100000, 100)):
        s = summary.get(("podswitchd", "normal", flows))
        if s and section == "p2p":
            o.para("target (issue 3): podswitchd normal %s flow(s): %.1f cycles/packet on CPU, target <= %d: %s" % (
                "{:,}".format(flows), s["cpu"], target, "met" if s["cpu"] <= target else "MISSED"))
    return summary


def pvp_table(rows, o):
    rs = [r for r in rows if r["section"] == "pvp"]
    if not rs:
        return {}
    o.title("PVP: pcap -> switch -> pod -> switch -> null",
            "Mpps = packets at the sink / wall time; cycles = the PMD's per packet at the sink; not handed = "
            "packets the switch could not give the pod, per second (ring full / link down / other); "
            "ratios paired by round: our Mpps / theirs")
    g = by(rs, "transport", "scenario", "flows", "system")
    out = []
    summary = {}
    for (tr, scen, flows, sysname), rr in g.items():
        mpps = [r["mpps"] for r in rr]
        ovs = g.get((tr, scen, flows, "ovs-dpdk"), [])
        tp = g.get((tr, scen, flows, "testpmd"), [])
        r_ovs = paired(ovs, rr, "mpps", invert=True) if sysname == "podswitchd" else []
        r_tp = paired(tp, rr, "mpps", invert=True) if sysname == "podswitchd" else []
        c_ovs = paired(ovs, rr, "cycles_per_packet_cpu") if sysname == "podswitchd" else []
        full = med([r["to_pod_ring_full"] / r["seconds"] for r in rr])
        down = med([r["to_pod_link_down"] / r["seconds"] for r in rr])
        other = med([r["to_pod_other"] / r["seconds"] for r in rr])
        out.append([{"vhost": "vhost-user"}.get(tr, tr), scen, "{:,}".format(flows), sysname,
                    spread(mpps, "%.2f"), spread([r["cycles_per_packet_cpu"] for r in rr]),
                    f1(med([r["cycles_per_packet_own"] for r in rr])),
                    "%s / %s / %s" % tuple("%.2fM" % (x / 1e6) if x >= 5e3 else "%.0f" % x for x in (full, down, other)),
                    "%.0f%% / %.0f%%" % (100 * med([r["cpu_share"] for r in rr]), 100 * med([r["pod_cpu_share"] for r in rr])),
                    spread(r_ovs, "%.2f"), spread(c_ovs, "%.2f"), spread(r_tp, "%.2f"),
                    "; ".join(sorted(set(r["note"] for r in rr if r.get("note"))))])
        summary[(tr, scen, flows, sysname)] = {"mpps": med(mpps), "mpps_all": mpps, "r_ovs": r_ovs, "r_tp": r_tp,
                                               "c_ovs": c_ovs}
    o.table(["transport", "pod", "flows", "system", "Mpps at sink", "cyc/pkt on CPU", "cyc/pkt own",
             "not handed /s (full/down/other)", "PMD / pod CPU", "us/OVS Mpps", "OVS/us cycles", "us/testpmd Mpps", "note"],
            out)
    lines = []
    for (tr, scen, flows, sysname), s in summary.items():
        if sysname != "podswitchd":
            continue
        if s["r_ovs"]:
            m = med(s["r_ovs"])
            lines.append("target: PVP %s %s %s flows: %.2fx OVS-DPDK (paired median Mpps; min %.2f), target >= 1.5: %s" % (
                tr, scen, "{:,}".format(flows), m, min(s["r_ovs"]), "met" if m >= 1.5 else "MISSED"))
        if s["r_tp"]:
            m = med(s["r_tp"])
            lines.append("target: PVP %s %s %s flows: %.2f of testpmd-as-switch (paired median Mpps; min %.2f), target >= 0.85: %s" % (
                tr, scen, "{:,}".format(flows), m, min(s["r_tp"]), "met" if m >= 0.85 else "MISSED"))
    if lines:
        o.para("  \n".join(lines))
    return summary


def churn_table(rows, o):
    rs = [r for r in rows if r["section"] == "churn"]
    if rs:
        o.title("Table churn: rules added and removed while traffic runs",
                "batch 0 = no churn; loss = packets of the unchanged flows the switch dropped (must be 0)")
        o.table(["batch", "rule changes/s", "request ms median / max", "unchanged in", "unchanged out",
                 "loss (dropped)", "in - out", "PMD cyc/pkt on CPU", "Mpps", "control thread on CPU"],
                [[r["batch"], "{:,.0f}".format(r["changes_per_s"]), "%s / %s" % (r["latency_ms_median"], r["latency_ms_max"]),
                  "{:,}".format(r["unchanged_in"]), "{:,}".format(r["unchanged_out"]), r["unchanged_dropped"],
                  r["in_minus_out"], r["cycles_per_packet_cpu"], "%.2f" % r["mpps"],
                  "%.0f%%" % (100 * r.get("control_cpu_share", 0))] for r in rs])
    ls = [r for r in rows if r["section"] == "learn"]
    if ls:
        o.title("Learning churn: new source MACs per second while traffic runs",
                "1,000 flows with known MACs; cost = cycles per packet of that traffic, during / before")
        base = {r["table"]: r["cycles_per_packet_cpu"] for r in ls if r["rate"] == 0}
        o.table(["table", "new MACs/s", "sent/s", "Mpps", "cyc/pkt on CPU", "during/before", "learn events/s",
                 "lost", "FDB entries"],
                [[r["table"], "{:,}".format(r["rate"]), "{:,.0f}".format(r["sent_per_s"]), "%.2f" % r["mpps"],
                  r["cycles_per_packet_cpu"],
                  "%.2f" % (r["cycles_per_packet_cpu"] / base[r["table"]]) if base.get(r["table"]) else "-",
                  r["learn_posted_per_s"], r["learn_lost"], r["fdb_entries_after"]] for r in ls])


def vxlan_table(rows, o):
    rs = [r for r in rows if r["section"] == "vxlan"]
    if not rs:
        return {}
    o.title("VXLAN: encap and decap on one PMD",
            "cycles per packet on CPU, median (min-max); extra = paired (same round) difference to plain")
    g = by(rs, "system", "scenario", "flows")
    out = []
    summary = {}
    for (sysname, scen, flows), rr in g.items():
        plain = g.get((sysname, "plain", flows), []) if sysname != "testpmd" else g.get((sysname, "io", flows), [])
        extra = []
        if scen != "plain" and scen != "io":
            pm = {r["round"]: r["cycles_per_packet_cpu"] for r in plain}
            extra = [r["cycles_per_packet_cpu"] - pm[r["round"]] for r in rr if r["round"] in pm]
        ovs = g.get(("ovs-dpdk", scen, flows), [])
        r_ovs = paired(ovs, rr, "cycles_per_packet_cpu") if sysname == "podswitchd" else []
        m_ovs = paired(ovs, rr, "mpps", invert=True) if sysname == "podswitchd" else []
        notes = sorted(set(r["note"] for r in rr if r.get("note")))
        out.append([sysname, scen, "{:,}".format(flows), spread([r["mpps"] for r in rr], "%.2f"),
                    spread([r["cycles_per_packet_cpu"] for r in rr]), spread(extra),
                    spread(r_ovs, "%.2f"), spread(m_ovs, "%.2f"), "; ".join(notes)])
        summary[(sysname, scen, flows)] = {"extra": extra, "r_ovs": r_ovs, "m_ovs": m_ovs}
    o.table(["system", "scenario", "flows", "Mpps", "cyc/pkt on CPU", "extra over plain", "OVS/us cycles",
             "us/OVS Mpps", "note"], out)
    lines = []
    for (sysname, scen, flows), s in summary.items():
        if sysname != "podswitchd" or scen == "plain":
            continue
        if s["extra"]:
            m = med(s["extra"])
            lines.append("target: VXLAN %s %s flows: %+.1f cycles/packet over plain, target <= 25: %s" % (
                scen, "{:,}".format(flows), m, "met" if m <= 25 else "MISSED"))
        if s["r_ovs"]:
            m = med(s["r_ovs"])
            lines.append("target: VXLAN %s %s flows: %.2fx OVS-DPDK (paired median cycles; Mpps %.2fx), target >= 2: %s" % (
                scen, "{:,}".format(flows), m, med(s["m_ovs"]) or 0, "met" if m >= 2 else "MISSED"))
    if lines:
        o.para("  \n".join(lines))
    return summary


def where(rows, o, results):
    """Each profile's self time as cycles per packet (share x the scenario's cycles)."""
    files = sorted(glob.glob(os.path.join(results, "profile-*.txt")))
    if not files:
        return
    cyc = {}
    for r in rows:
        if r.get("system") == "podswitchd" and r.get("round") == 1 and r.get("cycles_per_packet_cpu"):
            if r["section"] == "pvp":
                cyc["pvp-%s-%s-%s" % (r["transport"], r["scenario"], r["flows"])] = r["cycles_per_packet_cpu"]
            elif r["section"] in ("p2p", "million"):
                cyc["podswitchd-%s-%s" % (r["scenario"], r["flows"])] = r["cycles_per_packet_cpu"]
            elif r["section"] == "vxlan":
                cyc["vxlan-%s-%s" % (r["scenario"], r["flows"])] = r["cycles_per_packet_cpu"]
    out = []
    for f in files:
        name = os.path.basename(f)[len("profile-"):-len(".txt")]
        if name not in cyc:
            continue
        ents = []
        obj = False
        with open(f) as fh:
            for line in fh:
                if line.startswith("# by object"):
                    obj = True
                    continue
                if line.startswith("#") or not line.strip():
                    continue
                p = line.split()
                try:
                    pct = float(p[0].rstrip("%"))
                except ValueError:
                    continue
                if not obj and len(p) >= 4 and p[1] == "podswitchd":
                    ents.append((pct, p[3]))
                elif obj and len(p) >= 2 and ("librte_net" in p[1] or "kernel" in p[1] or "librte_vhost" in p[1]):
                    ents.append((pct, p[1].split(".so")[0]))
        ents.sort(reverse=True)
        out.append([name, "%.1f" % cyc[name],
                    ", ".join("%s %.1f" % (n, pct * cyc[name] / 100) for pct, n in ents[:9])])
    ctl = []
    for f in files:
        name = os.path.basename(f)[len("profile-"):-len(".txt")]
        if not name.startswith("churn-control-"):
            continue
        top = []
        with open(f) as fh:
            for line in fh:
                if line.startswith("# by object"):
                    break
                p = line.split()
                if line.startswith("#") or len(p) < 4 or not p[0].endswith("%"):
                    continue
                top.append("%s %s (%s)" % (p[0], p[3], p[1].split(".so")[0]))
        ctl.append([name[len("churn-control-"):], "; ".join(top[:8])])
    if ctl:
        o.title("Where the control thread's time goes during rule churn",
                "perf self time of podswitchd's main thread (cpu-clock: on-CPU time only)")
        o.table(["batch", "top entries (share of samples)"], ctl)
    if out:
        o.title("Where podswitchd's cycles go", "perf self time (cpu-clock samples) x cycles per packet on CPU; round 1")
        o.table(["scenario", "cyc/pkt", "top entries (cycles per packet)"], out)


def plots(rows, p2p, pvp, outdir):
    gp = shutil.which("gnuplot")
    if not gp:
        print("# gnuplot not installed: no plots")
        return
    data = os.path.join(outdir, ".plot")
    os.makedirs(data, exist_ok=True)
    series = collections.OrderedDict()
    for (sysname, scen, flows), s in p2p.items():
        if scen in ("static", "udp_out", "normal_known", "io-vxlan-frames"):
            continue
        series.setdefault("%s %s" % (sysname, scen), []).append((flows, s["mpps_all"]))
    m = [r for r in rows if r["section"] == "million" and r.get("mpps") is not None]
    for r in m:
        key = "%s %s" % (r["system"], r["scenario"])
        if key in series:
            series[key].append((r["flows"], [r["mpps"]]))

    def write(name, pts):
        fn = os.path.join(data, name.replace(" ", "_").replace("/", "_") + ".dat")
        with open(fn, "w") as f:
            for flows, xs in sorted(pts):
                f.write("%d %f %f %f\n" % (flows, med(xs), min(xs), max(xs)))
        return fn

    def plot(png, title, groups):
        cmds = ["set terminal pngcairo size 1100,%d font ',10'" % (480 * len(groups)), "set output '%s'" % png]
        if len(groups) > 1:
            cmds.append("set multiplot layout %d,1" % len(groups))
        for sub, ss in groups:
            cmds += ["set title '%s'" % sub, "set logscale x", "set xlabel 'flows'", "set ylabel 'Mpps (median, min-max)'",
                     "set key outside right", "set grid", "set yrange [0:*]", "set xrange [0.5:2e6]"]
            parts = ["'%s' using 1:2:3:4 with yerrorlines title '%s'" % (write(sub + " " + k, v), k) for k, v in ss.items()]
            cmds.append("plot " + ", ".join(parts))
        if len(groups) > 1:
            cmds.append("unset multiplot")
        subprocess.run([gp], input="\n".join(cmds).encode(), check=False)

    if series:
        plot(os.path.join(outdir, "p2p.png"), "p2p", [("p2p: net_pcap -> switch (1 PMD) -> net_null", series)])
    groups = []
    for tr in ("vhost", "memif"):
        ss = collections.OrderedDict()
        for (t, scen, flows, sysname), s in pvp.items():
            if t == tr:
                ss.setdefault("%s %s" % (sysname, scen), []).append((flows, s["mpps_all"]))
        if ss:
            groups.append(("PVP over %s: packets at the sink" % {"vhost": "vhost-user"}.get(tr, tr), ss))
    if groups:
        plot(os.path.join(outdir, "pvp.png"), "pvp", groups)
    shutil.rmtree(data, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("jsonl")
    ap.add_argument("--out")
    a = ap.parse_args()
    rows = load(a.jsonl)
    o = Out()
    o.md.append("# podswitch benchmark results")
    o.md.append("")
    machine(rows, o)
    noise(rows, o)
    p2p = p2p_table(rows, o, "p2p", "p2p: net_pcap -> switch (one PMD) -> net_null")
    p2p_table(rows, o, "million", "p2p with 1,000,000 flows")
    pvp = pvp_table(rows, o)
    churn_table(rows, o)
    vxlan_table(rows, o)
    lookup = [r["line"] for r in rows if r["section"] == "lookup"]
    if lookup:
        o.title("bench_lookup (parser, exact-match cache, classifier)")
        o.md += ["```"] + lookup + ["```", ""]
        print("\n".join(lookup))
    if a.out:
        where(rows, o, a.out)
        with open(os.path.join(a.out, "latest.md"), "w") as f:
            f.write("\n".join(o.md) + "\n")
        plots(rows, p2p, pvp, a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
