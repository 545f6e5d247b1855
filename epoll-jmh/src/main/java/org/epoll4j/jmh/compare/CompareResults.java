package org.epoll4j.jmh.compare;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.ToDoubleFunction;

/**
 * What {@link EchoCompare} measured: every run, and per load and server the medians the table and the charts show.
 * Written as JSON (read back by the chart generator) and as a markdown table.
 *
 * @param title       what was run (quick or full, rounds, seconds)
 * @param environment machine, kernel, JDK, load generator, CPU pinning
 * @param runs        every single run
 * @param summaries   one per load and server, in the order run
 */
public record CompareResults(String title, Map<String, String> environment, List<Run> runs, List<Summary> summaries) {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /**
     * One load configuration.
     *
     * @param name  its label in tables and charts
     * @param conns active connections
     * @param depth messages in flight per connection
     * @param size  message size in bytes
     * @param idle  idle connections opened first (memory per idle connection is measured on this load)
     */
    public record Load(String name, int conns, int depth, int size, int idle) {
    }

    /**
     * One server under one load in one round.
     *
     * @param load         the load's name
     * @param server       the server's name
     * @param round        1-based round
     * @param ok           whether the server started, the load generator finished cleanly and verified every byte
     * @param msgsPerSec   messages per second
     * @param p50Us        median round trip, µs
     * @param p99Us        99th percentile round trip, µs
     * @param errors       bytes that did not match what was sent
     * @param cpuUsPerMsg  server CPU time (user + system, from /proc/PID/stat) per message, µs
     * @param rssBeforeKb  server RSS before the load generator connected, KiB
     * @param rssLoadedKb  server RSS with all connections open, KiB
     * @param idle         idle connections of this load
     * @param note         why it failed, or empty
     */
    public record Run(String load, String server, int round, boolean ok, double msgsPerSec, double p50Us, double p99Us,
                      long errors, double cpuUsPerMsg, long rssBeforeKb, long rssLoadedKb, int idle, String note) {
        /** Bytes of RSS per idle connection; NaN without idle connections. */
        public double bytesPerIdleConnection() {
            return idle > 0 && rssBeforeKb > 0 && rssLoadedKb > 0 ? (rssLoadedKb - rssBeforeKb) * 1024.0 / idle
                    : Double.NaN;
        }
    }

    /**
     * Medians over the rounds of one server under one load.
     *
     * @param load                  the load
     * @param server                the server
     * @param runsOk                runs that succeeded
     * @param runs                  runs attempted
     * @param medianMsgsPerSec      median messages/s
     * @param minMsgsPerSec         slowest round
     * @param maxMsgsPerSec         fastest round
     * @param ratioToBest           median / the best server's median under this load
     * @param p50Us                 median of the rounds' p50
     * @param p99Us                 median of the rounds' p99
     * @param cpuUsPerMsg           median server CPU µs per message
     * @param bytesPerIdleConnection median RSS bytes per idle connection (NaN for loads without idle ones)
     */
    public record Summary(String load, String server, int runsOk, int runs, double medianMsgsPerSec,
                          double minMsgsPerSec, double maxMsgsPerSec, double ratioToBest, double p50Us, double p99Us,
                          double cpuUsPerMsg, double bytesPerIdleConnection) {
    }

    /**
     * Computes the summaries of {@code runs}, loads and servers in first-seen order.
     *
     * @param runs every run
     * @return one summary per load and server
     */
    public static List<Summary> summarize(List<Run> runs) {
        Map<String, Map<String, List<Run>>> byLoad = new TreeMap<>(Comparator.comparingInt(l -> firstIndex(runs, l)));
        for (Run r : runs) {
            byLoad.computeIfAbsent(r.load(), k -> new TreeMap<>(Comparator.comparingInt(s -> firstServer(runs, s))))
                    .computeIfAbsent(r.server(), k -> new ArrayList<>()).add(r);
        }
        List<Summary> out = new ArrayList<>();
        for (var load : byLoad.entrySet()) {
            double best = load.getValue().values().stream()
                    .mapToDouble(rs -> median(rs, Run::msgsPerSec)).filter(d -> !Double.isNaN(d)).max().orElse(Double.NaN);
            for (var server : load.getValue().entrySet()) {
                List<Run> rs = server.getValue();
                List<Run> ok = rs.stream().filter(Run::ok).toList();
                double med = median(ok, Run::msgsPerSec);
                out.add(new Summary(load.getKey(), server.getKey(), ok.size(), rs.size(), med,
                        ok.stream().mapToDouble(Run::msgsPerSec).min().orElse(Double.NaN),
                        ok.stream().mapToDouble(Run::msgsPerSec).max().orElse(Double.NaN),
                        med / best, median(ok, Run::p50Us), median(ok, Run::p99Us), median(ok, Run::cpuUsPerMsg),
                        median(ok, Run::bytesPerIdleConnection)));
            }
        }
        return out;
    }

    private static int firstIndex(List<Run> runs, String load) {
        for (int i = 0; i < runs.size(); i++) {
            if (runs.get(i).load().equals(load)) {
                return i;
            }
        }
        return Integer.MAX_VALUE;
    }

    private static int firstServer(List<Run> runs, String server) {
        for (int i = 0; i < runs.size(); i++) {
            if (runs.get(i).server().equals(server)) {
                return i;
            }
        }
        return Integer.MAX_VALUE;
    }

    /** The median of the non-NaN values; NaN if none. */
    static double median(List<Run> runs, ToDoubleFunction<Run> f) {
        double[] v = runs.stream().mapToDouble(f).filter(d -> !Double.isNaN(d)).sorted().toArray();
        if (v.length == 0) {
            return Double.NaN;
        }
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    /** The markdown tables, one per load. */
    public String markdown() {
        StringBuilder sb = new StringBuilder();
        sb.append("## ").append(title).append("\n\n");
        environment.forEach((k, v) -> sb.append("- ").append(k).append(": ").append(v).append('\n'));
        String current = null;
        for (Summary s : summaries) {
            if (!s.load().equals(current)) {
                current = s.load();
                boolean idle = summaries.stream().anyMatch(x -> x.load().equals(s.load())
                        && !Double.isNaN(x.bytesPerIdleConnection()));
                sb.append("\n### ").append(current).append("\n\n");
                sb.append("| server | median msgs/s [min..max] | ratio to best | p50 µs | p99 µs | server CPU µs/msg |");
                sb.append(idle ? " memory per idle connection |" : "").append(" runs ok |\n");
                sb.append("|---|---|---|---|---|---|").append(idle ? "---|" : "").append("---|\n");
            }
            boolean idle = summaries.stream().anyMatch(x -> x.load().equals(s.load())
                    && !Double.isNaN(x.bytesPerIdleConnection()));
            if (s.runsOk() == 0) {
                sb.append(String.format(Locale.ROOT, "| %s | FAILED | | | | |%s 0/%d |\n", s.server(),
                        idle ? " |" : "", s.runs()));
                continue;
            }
            sb.append(String.format(Locale.ROOT, "| %s | %,.0f [%,.0f..%,.0f] | %.2f | %.1f | %.1f | %.2f |",
                    s.server(), s.medianMsgsPerSec(), s.minMsgsPerSec(), s.maxMsgsPerSec(), s.ratioToBest(),
                    s.p50Us(), s.p99Us(), s.cpuUsPerMsg()));
            if (idle) {
                sb.append(Double.isNaN(s.bytesPerIdleConnection()) ? " |"
                        : String.format(Locale.ROOT, " %,.0f B |", s.bytesPerIdleConnection()));
            }
            sb.append(String.format(Locale.ROOT, " %d/%d |\n", s.runsOk(), s.runs()));
        }
        return sb.toString();
    }

    /** Writes this as JSON. */
    public void write(Path file) throws IOException {
        JSON.writeValue(file.toFile(), this);
    }

    /** Reads a file {@link #write} wrote. */
    public static CompareResults read(Path file) throws IOException {
        return JSON.readValue(file.toFile(), CompareResults.class);
    }

}
