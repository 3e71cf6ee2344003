"""The plot of latency against database size (docs/latency-vs-size.png)."""
import endpoints

PLOT = "latency-vs-size.png"


def plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    sizes = [row["size"] for row in results["growth"]]
    figure, axes = pyplot.subplots(figsize=(8, 5), dpi=110)
    styles = {0: ("tab:red", "o"), 1: ("tab:blue", "s"), 2: ("tab:green", "^")}
    for index, endpoint in enumerate(endpoints.GROWTH):
        color, marker = styles.get(index, ("tab:gray", "x"))
        p50 = [row[endpoint.name]["p50"] for row in results["growth"]]
        p99 = [row[endpoint.name]["p99"] for row in results["growth"]]
        label = "lead creation (POST)" if index == 0 else f"{endpoint.name} (GET, limit=25)"
        axes.plot(sizes, p50, color=color, marker=marker, linewidth=2, label=f"{label} p50")
        axes.plot(sizes, p99, color=color, marker=marker, linewidth=1, linestyle="--",
                  alpha=0.6, label=f"{label} p99")
    axes.set_xscale("log")
    axes.set_xticks(sizes)
    axes.set_xticklabels([f"{size:,}" for size in sizes])
    axes.set_ylim(bottom=0)
    axes.set_xlabel("leads in the database (log scale)")
    axes.set_ylabel("latency per request, ms (in-process)")
    axes.set_title(f"vorel-lite: latency against database size "
                   f"({results['machine']['date'][:10]}, {results['machine']['cores']} cores)")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=3)
    figure.tight_layout()
    figure.savefig(path)
    pyplot.close(figure)
