"""CPU accounting: what the server, wrk and everybody else used during a measurement.

The load generator shares the machine's cores with the server, and other work may be
running too; these figures say how much, so a reader can judge the numbers.
"""
import os
import resource
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def process_seconds(pids):
    """User + system CPU seconds of the given processes (their reaped children excluded)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICK


def children_seconds():
    """CPU seconds of this process's reaped children (wrk runs, stopped servers)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def own_seconds():
    """CPU seconds of this process and all its reaped descendants."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime + children_seconds()


def machine_busy_seconds():
    """CPU seconds every process of the machine has used (all cores), from /proc/stat."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, idle, iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / TICK


class OtherLoad:
    """CPU used by processes other than this run's, between start() and stop().

    This run's processes are this one and its descendants: they are counted once reaped
    (every server is stopped and waited for before stop()).
    """

    def start(self):
        self.machine = machine_busy_seconds()
        self.own = own_seconds()
        return self

    def stop(self, elapsed):
        machine = machine_busy_seconds() - self.machine
        own = own_seconds() - self.own
        other = max(0.0, machine - own)
        return {"other_cpu_seconds": other, "own_cpu_seconds": own, "elapsed": elapsed,
                "other_share": other / (elapsed * (os.cpu_count() or 1))}
