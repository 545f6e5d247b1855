package org.epoll4j.jmh.charts;

import org.epoll4j.jmh.compare.CompareResults;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Draws the benchmark charts as PNG files with XChart, from JMH's JSON output and {@code EchoCompare}'s
 * {@code compare.json}:
 *
 * <ul>
 *   <li>{@code multiplex-by-n.png}: time per wait of epoll_wait, poll and select by the number of watched fds, and
 *   the cost of building poll's and select's interest sets (log-log);</li>
 *   <li>{@code edge-level-throughput.png}, {@code edge-level-epoll-waits.png} (and {@code edge-level-epoll-ctls.png}
 *   once the benchmark reports an {@code epollCtls} counter): EDGE against LEVEL by connections;</li>
 *   <li>{@code echo-throughput.png}, {@code echo-cpu.png}: the echo servers side by side per load (msgs/s relative
 *   to the best server, server CPU µs per message);</li>
 *   <li>{@code echo-idle-memory.png}: RSS bytes per idle connection;</li>
 *   <li>{@code transport-ping-pong.png}, {@code transport-echo.png}: the in-JVM transport benchmarks;</li>
 *   <li>{@code https-vs-nginx.png}: https per provider and key type relative to nginx ({@code --https CSV}).</li>
 * </ul>
 *
 * <pre>
 * java -cp epoll-jmh/target/benchmarks.jar org.epoll4j.jmh.charts.Charts \
 *     [--jmh results/jmh.json] [--compare results/compare.json] [--https https.csv] [--out docs/img]
 *     [--label "quick run"]
 * </pre>
 *
 * A chart whose input is missing is skipped (and said so); the files it wrote are printed.
 */
public final class Charts {
    private static final int WIDTH = 900;
    private static final int HEIGHT = 540;

    private final Path out;
    private final String label;
    private final List<Path> written = new ArrayList<>();

    /**
     * A generator writing into {@code out}.
     *
     * @param out   the directory for the PNG files (created if missing)
     * @param label appended to every title, e.g. "QUICK, preliminary"; empty for none
     */
    public Charts(Path out, String label) {
        this.out = out;
        this.label = label == null || label.isBlank() ? "" : " (" + label + ")";
    }

    /**
     * Runs the generator.
     *
     * @param args see the class comment
     * @throws IOException if an input cannot be read or a chart cannot be written
     */
    public static void main(String[] args) throws IOException {
        System.setProperty("java.awt.headless", "true");
        Path jmh = null;
        Path compare = null;
        Path https = null;
        Path out = Path.of("docs/img");
        String label = "";
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--jmh" -> jmh = Path.of(args[i + 1]);
                case "--compare" -> compare = Path.of(args[i + 1]);
                case "--https" -> https = Path.of(args[i + 1]);
                case "--out" -> out = Path.of(args[i + 1]);
                case "--label" -> label = args[i + 1];
                default -> {
                    System.err.println("usage: Charts [--jmh FILE] [--compare FILE] [--https CSV] [--out DIR] [--label TEXT]");
                    System.exit(2);
                }
            }
        }
        if (args.length % 2 != 0) {
            System.err.println("usage: Charts [--jmh FILE] [--compare FILE] [--https CSV] [--out DIR] [--label TEXT]");
            System.exit(2);
        }
        Charts charts = new Charts(out, label);
        if (jmh != null && Files.isRegularFile(jmh)) {
            charts.jmh(JmhResults.read(jmh));
        } else {
            System.err.println("Charts: no JMH results (" + jmh + "): skipping the JMH charts");
        }
        if (compare != null && Files.isRegularFile(compare)) {
            charts.compare(CompareResults.read(compare));
        } else {
            System.err.println("Charts: no comparison results (" + compare + "): skipping the echo charts");
        }
        if (https != null && Files.isRegularFile(https)) {
            charts.https(Files.readAllLines(https));
        }
        charts.written().forEach(p -> System.out.println("wrote " + p));
    }

    /** The files written so far. */
    public List<Path> written() {
        return written;
    }

    /**
     * Draws the charts from JMH results: those whose benchmarks are present.
     *
     * @param r the results
     * @throws IOException if a file cannot be written
     */
    public void jmh(JmhResults r) throws IOException {
        multiplex(r);
        edgeLevel(r);
        transports(r, "TransportPingPongBenchmark", "roundTrip", "transport-ping-pong",
                "Ping-pong, 64 B, one loopback connection (lower is better)", "µs per round trip");
        transports(r, "TransportEchoBenchmark", "echoAll", "transport-echo",
                "Echo, 64 B on each of 50 loopback connections", "messages/s");
    }

    private void transports(JmhResults r, String cls, String method, String file, String title, String unit)
            throws IOException {
        List<JmhResults.Row> rows = r.of(cls, method);
        if (rows.isEmpty()) {
            return;
        }
        CategoryChart c = category(title + label, "transport (server on its own thread, same JDK client)", unit);
        List<String> names = new ArrayList<>();
        List<Double> scores = new ArrayList<>();
        List<Double> errors = new ArrayList<>();
        for (JmhResults.Row row : rows) {
            names.add(row.param("transport").toLowerCase(java.util.Locale.ROOT));
            scores.add(row.score());
            errors.add(nanToZero(row.scoreError()));
        }
        c.addSeries(method + " (JMH score, error bars: 99.9% CI)", names, scores, errors);
        save(c, file);
    }

    private void multiplex(JmhResults r) throws IOException {
        XYChart c = new XYChartBuilder().width(WIDTH).height(HEIGHT)
                .title("One wait with 1 of N fds ready" + label)
                .xAxisTitle("N watched fds").yAxisTitle("ns per call (log)").build();
        c.getStyler().setXAxisLogarithmic(true).setYAxisLogarithmic(true)
                .setLegendPosition(Styler.LegendPosition.InsideNW).setChartBackgroundColor(java.awt.Color.WHITE);
        int series = 0;
        series += xy(c, "epoll_wait", r.of("MultiplexBenchmark", "epollWait"), "n", false);
        series += xy(c, "poll + scan of revents", r.of("MultiplexBenchmark", "poll"), "n", false);
        series += xy(c, "select + copy + scan (N <= 1000: FD_SETSIZE)", r.of("SelectBenchmark", "select"), "n", false);
        series += xy(c, "building poll's pollfd array", r.of("MultiplexBenchmark", "pollBuildSet"), "n", true);
        series += xy(c, "building select's fd_set", r.of("SelectBenchmark", "selectBuildSet"), "n", true);
        if (series > 0) {
            save(c, "multiplex-by-n");
        }
    }

    private static int xy(XYChart c, String name, List<JmhResults.Row> rows, String param, boolean dashed) {
        List<Double> x = new ArrayList<>();
        List<Double> y = new ArrayList<>();
        rows.stream().sorted((a, b) -> Double.compare(Double.parseDouble(a.param(param)),
                Double.parseDouble(b.param(param)))).forEach(row -> {
                    x.add(Double.parseDouble(row.param(param)));
                    y.add(row.score());
                });
        if (x.isEmpty()) {
            return 0;
        }
        var s = c.addSeries(name, x, y);
        s.setMarker(SeriesMarkers.CIRCLE);
        if (dashed) {
            s.setLineStyle(new java.awt.BasicStroke(2f, java.awt.BasicStroke.CAP_BUTT, java.awt.BasicStroke.JOIN_MITER,
                    10f, new float[]{6f, 4f}, 0f));
        }
        return 1;
    }

    private void edgeLevel(JmhResults r) throws IOException {
        List<JmhResults.Row> rows = r.of("EdgeLevelBenchmark", "round");
        if (rows.isEmpty()) {
            return;
        }
        Set<String> ks = new LinkedHashSet<>();
        rows.stream().map(x -> x.param("k")).sorted((a, b) -> Integer.compare(Integer.parseInt(a), Integer.parseInt(b)))
                .forEach(ks::add);
        List<String> cats = ks.stream().map(k -> k + (k.equals("1") ? " connection" : " connections")).toList();
        CategoryChart thr = category("EDGE vs LEVEL: streaming bursts through TcpServer" + label,
                "connections (8 x 64 B per connection per burst)", "messages/s");
        CategoryChart waits = category("EDGE vs LEVEL: epoll_wait calls per message" + label,
                "connections (8 x 64 B per connection per burst)", "epoll_wait calls per message");
        // epoll_ctl calls per message: only once the benchmark reports an epollCtls counter (ReactorStats has none yet).
        boolean hasCtls = rows.stream().anyMatch(x -> x.secondary().containsKey("epollCtls"));
        CategoryChart ctls = category("EDGE vs LEVEL: epoll_ctl calls per message" + label,
                "connections (8 x 64 B per connection per burst)", "epoll_ctl calls per message");
        for (String mode : List.of("LEVEL", "EDGE")) {
            List<Double> m = new ArrayList<>();
            List<Double> w = new ArrayList<>();
            List<Double> ct = new ArrayList<>();
            for (String k : ks) {
                JmhResults.Row row = rows.stream().filter(x -> k.equals(x.param("k")) && mode.equals(x.param("trigger")))
                        .findFirst().orElse(null);
                double msgs = row == null ? Double.NaN : row.secondary().getOrDefault("messages", Double.NaN);
                double ew = row == null ? Double.NaN : row.secondary().getOrDefault("epollWaits", Double.NaN);
                double ec = row == null ? Double.NaN : row.secondary().getOrDefault("epollCtls", Double.NaN);
                m.add(nanToZero(msgs));
                w.add(nanToZero(ew / msgs));
                ct.add(nanToZero(ec / msgs));
            }
            thr.addSeries(mode, cats, m);
            waits.addSeries(mode, cats, w);
            ctls.addSeries(mode, cats, ct);
        }
        save(thr, "edge-level-throughput");
        save(waits, "edge-level-epoll-waits");
        if (hasCtls) {
            save(ctls, "edge-level-epoll-ctls");
        }
    }

    /**
     * Draws the echo comparison charts.
     *
     * @param cr the comparison's results
     * @throws IOException if a file cannot be written
     */
    public void compare(CompareResults cr) throws IOException {
        Set<String> loads = new LinkedHashSet<>();
        Set<String> servers = new LinkedHashSet<>();
        cr.summaries().forEach(s -> {
            loads.add(s.load());
            servers.add(s.server());
        });
        if (loads.isEmpty()) {
            return;
        }
        String suffix = cr.title().contains("QUICK") && label.isEmpty() ? " (QUICK, preliminary)" : label;
        CategoryChart thr = category("Echo servers: throughput relative to the best" + suffix, "load",
                "median msgs/s / best median msgs/s");
        CategoryChart cpu = category("Echo servers: server CPU per message" + suffix, "load", "µs CPU per message");
        List<String> loadList = new ArrayList<>(loads);
        for (String server : servers) {
            List<Double> t = new ArrayList<>();
            List<Double> u = new ArrayList<>();
            for (String load : loadList) {
                var s = cr.summaries().stream().filter(x -> x.load().equals(load) && x.server().equals(server))
                        .findFirst();
                t.add(nanToZero(s.map(CompareResults.Summary::ratioToBest).orElse(Double.NaN)));
                u.add(nanToZero(s.map(CompareResults.Summary::cpuUsPerMsg).orElse(Double.NaN)));
            }
            thr.addSeries(server, loadList, t);
            cpu.addSeries(server, loadList, u);
        }
        thr.getStyler().setXAxisLabelRotation(0);
        save(thr, "echo-throughput");
        save(cpu, "echo-cpu");

        List<String> memServers = new ArrayList<>();
        List<Double> mem = new ArrayList<>();
        String memLoad = null;
        for (var s : cr.summaries()) {
            if (!Double.isNaN(s.bytesPerIdleConnection())) {
                memServers.add(s.server());
                mem.add(s.bytesPerIdleConnection());
                memLoad = s.load();
            }
        }
        if (!mem.isEmpty()) {
            CategoryChart m = category("Memory per idle connection" + suffix, "server (" + memLoad + ")",
                    "bytes of RSS per idle connection");
            m.addSeries("RSS with the idle connections minus RSS before, / connections", memServers, mem);
            save(m, "echo-idle-memory");
        }
    }

    /**
     * Draws {@code https-vs-nginx.png} from epoll-examples/bench/https-vs-nginx.sh's CSV lines
     * ({@code round,key,server,full,resumed,rps,mbps}): each server's rate relative to nginx's in the same round,
     * averaged over rounds, per key type and measure.
     *
     * @param lines the CSV lines
     * @throws IOException if the file cannot be written
     */
    public void https(List<String> lines) throws IOException {
        String[] measures = {"full hs/s", "resumed hs/s", "req/s", "MB/s"};
        java.util.Map<String, double[]> nginx = new java.util.HashMap<>(); // round,key -> values
        java.util.Map<String, java.util.Map<String, double[]>> sums = new java.util.LinkedHashMap<>(); // server -> cat
        java.util.Map<String, Integer> counts = new java.util.HashMap<>();
        List<String> categories = new ArrayList<>();
        for (int pass = 0; pass < 2; pass++) {
            for (String line : lines) {
                String[] f = line.trim().split(",");
                if (f.length < 7) {
                    continue;
                }
                double[] v = new double[4];
                for (int i = 0; i < 4; i++) {
                    v[i] = f[3 + i].isEmpty() ? Double.NaN : Double.parseDouble(f[3 + i]);
                }
                String rk = f[0] + "," + f[1];
                if (pass == 0) {
                    if (f[2].equals("nginx")) {
                        nginx.put(rk, v);
                    }
                    continue;
                }
                double[] n = nginx.get(rk);
                if (n == null) {
                    continue;
                }
                for (int i = 0; i < 4; i++) {
                    String cat = f[1].toUpperCase(java.util.Locale.ROOT) + " " + measures[i];
                    if (!categories.contains(cat)) {
                        categories.add(cat);
                    }
                    sums.computeIfAbsent(f[2], k -> new java.util.LinkedHashMap<>())
                            .computeIfAbsent(cat, k -> new double[1])[0] += nanToZero(v[i] / n[i]);
                    counts.merge(f[2] + "|" + cat, 1, Integer::sum);
                }
            }
        }
        if (categories.isEmpty()) {
            System.err.println("Charts: no https rows: skipping https-vs-nginx.png");
            return;
        }
        CategoryChart c = category("https: the http example against nginx (same round, same cores)" + label,
                "key type and measure", "rate relative to nginx (1.0 = nginx)");
        for (var e : sums.entrySet()) {
            List<Double> ys = new ArrayList<>();
            for (String cat : categories) {
                double[] sum = e.getValue().get(cat);
                ys.add(sum == null ? 0 : sum[0] / counts.get(e.getKey() + "|" + cat));
            }
            c.addSeries(e.getKey(), categories, ys);
        }
        c.getStyler().setXAxisLabelRotation(30);
        save(c, "https-vs-nginx");
    }

    private static double nanToZero(double d) {
        return Double.isNaN(d) || Double.isInfinite(d) ? 0 : d;
    }

    private static CategoryChart category(String title, String x, String y) {
        CategoryChart c = new CategoryChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle(x)
                .yAxisTitle(y).build();
        c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS).setLegendLayout(Styler.LegendLayout.Horizontal)
                .setChartBackgroundColor(java.awt.Color.WHITE);
        return c;
    }

    private void save(Chart<?, ?> chart, String name) throws IOException {
        Files.createDirectories(out);
        Path file = out.resolve(name + ".png");
        BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
        written.add(file);
    }
}
