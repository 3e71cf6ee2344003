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


class ProcessMeter:
    """CPU seconds used by the processes whose command line contains `text`.

    Such as the PostgreSQL backends serving one database: they are not this run's
    descendants. A process that has exited counts with what it had used when last seen, so
    read seconds() before and after every measurement.
    """

    def __init__(self, name, text):
        self.name = name
        self.text = text.encode()
        self.seen = {}  # pid: CPU seconds when last seen

    def seconds(self):
        for path in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                if self.text in path.read_bytes():
                    pid = int(path.parent.name)
                    self.seen[pid] = process_seconds([pid])
            except (OSError, ValueError):
                continue
        return sum(self.seen.values())


class OtherLoad:
    """CPU used by processes other than this run's, between start() and stop().

    This run's processes are this one and its descendants: they are counted once reaped
    (every server is stopped and waited for before stop()); and those of the meters, a list
    of ProcessMeter that may grow during the phase.
    """

    def __init__(self, meters=()):
        self.meters = meters

    def start(self):
        self.machine = machine_busy_seconds()
        self.own = own_seconds()
        self.metered = {id(meter): meter.seconds() for meter in self.meters}
        return self

    def stop(self, elapsed):
        machine = machine_busy_seconds() - self.machine
        own = own_seconds() - self.own + sum(meter.seconds() - self.metered.get(id(meter), 0)
                                             for meter in self.meters)
        other = max(0.0, machine - own)
        return {"other_cpu_seconds": other, "own_cpu_seconds": own, "elapsed": elapsed,
                "other_share": other / (elapsed * (os.cpu_count() or 1))}
