"""Markdown tables and number formats shared by the benchmarks' document."""


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |",
             "| " + " | ".join("---" if i == 0 else "---:" for i in range(len(header))) + " |"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def ms(value):
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def percent(ratio):
    return f"{ratio:.1%}" if ratio < 0.1 else f"{ratio:.0%}"


def failures(row):
    return "0" if not row["failed"] else ", ".join(
        f"{n} {kind}" for kind, n in row["errors"].items() if n)


def serving(plan):
    """gunicorn's worker options of a run and what they do to connections, in words (a run
    from before the options were recorded ran sync workers)."""
    worker_class = plan.get("worker_class", "sync")
    if worker_class == "sync":
        return "`-k sync` (each connection closed after one answer: wrk connects anew for " \
            "every request)"
    reuse_port = " --reuse-port" if plan.get("reuse_port") else ""
    return (f"`-k {worker_class} --threads {plan.get('worker_threads', 1)}{reuse_port}` "
            f"(connections kept alive between requests, as the README runs it)")
