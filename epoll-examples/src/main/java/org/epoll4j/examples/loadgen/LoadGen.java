package org.epoll4j.examples.loadgen;

import org.HdrHistogram.Histogram;
import org.epoll4j.ReactorGroup;
import org.epoll4j.examples.Main;
import org.epoll4j.net.Connection;
import org.epoll4j.net.TcpClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;

/**
 * A load generator on the library's client side: {@code --connections} connections, each keeping up to
 * {@code --depth} requests in flight, speaking echo (every echoed byte checked against the connection's own byte
 * stream), http (keep-alive GETs, responses parsed) or resp (GET/SET). Closed loop by default (a new request as each
 * reply completes, latency from the actual send; {@code --co-expected-interval-us} applies HdrHistogram's
 * coordinated-omission correction), or open loop with {@code --rate} (requests due at fixed times as wrk2 does,
 * latency from when each was due). Latencies go into an HdrHistogram.
 *
 * <p>Prints one progress line a second to standard error and, at the end, one line to standard output in the same
 * format as the C load generator of the comparison benchmark: {@code msgs_per_s=... p50_us=... p99_us=...
 * p999_us=... errors=...} (then mean_us, max_us, msgs, secs, conns, depth, size; then rate, protocol and failures
 * when not the defaults). Exit status 1 if any connection failed or echoed a wrong byte.
 */
@Command(name = "loadgen", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"Load generator for the echo, http and resp examples (and any echo, HTTP/1.1 or Redis server).",
                "Closed loop by default: latency from each request's send. --rate N: open loop, N requests/s in total "
                        + "at fixed due times, latency from when each request was due (a stalled server shows).",
                "Try it against: java -jar epoll-examples.jar echo"})
public final class LoadGen implements Callable<Integer> {
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    @Option(names = "--host", paramLabel = "HOST", defaultValue = "127.0.0.1",
            description = "echo server address (default: ${DEFAULT-VALUE})")
    String host;

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "7007",
            description = "echo server port (default: ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--connections", paramLabel = "N", defaultValue = "1",
            description = "connections (default: ${DEFAULT-VALUE})")
    int connections;

    @Option(names = "--depth", paramLabel = "N", defaultValue = "1",
            description = "messages in flight per connection (default: ${DEFAULT-VALUE})")
    int depth;

    @Option(names = "--size", paramLabel = "BYTES", defaultValue = "64",
            description = "message size (default: ${DEFAULT-VALUE})")
    int size;

    @Option(names = "--duration", paramLabel = "SECONDS", defaultValue = "10",
            description = "measured time (default: ${DEFAULT-VALUE})")
    double duration;

    @Option(names = "--warmup", paramLabel = "SECONDS", defaultValue = "2",
            description = "load before measuring, not counted (default: ${DEFAULT-VALUE})")
    double warmup;

    @Option(names = "--reactors", paramLabel = "N", defaultValue = "1",
            description = "reactor threads the connections are spread over (default: ${DEFAULT-VALUE})")
    int reactors;

    @Option(names = "--protocol", paramLabel = "P", defaultValue = "echo",
            description = "echo, http (GET --path, keep-alive) or resp (GET/SET on --keys keys); default: "
                    + "${DEFAULT-VALUE}")
    String protocol;

    @Option(names = "--path", paramLabel = "PATH", defaultValue = "/",
            description = "http: the path to GET (default: ${DEFAULT-VALUE})")
    String path;

    @Option(names = "--keys", paramLabel = "N", defaultValue = "10000",
            description = "resp: the key space, key:0 .. key:N-1 (default: ${DEFAULT-VALUE})")
    int keys;

    @Option(names = "--set-percent", paramLabel = "P", defaultValue = "10",
            description = "resp: the share of SETs (of a --size value) among the commands (default: "
                    + "${DEFAULT-VALUE})")
    int setPercent;

    @Option(names = "--rate", paramLabel = "N", defaultValue = "0",
            description = "open loop: N requests a second in total, spread evenly over the connections, each "
                    + "timed from when it was due (0 = closed loop; default: ${DEFAULT-VALUE})")
    double rate;

    @Option(names = "--co-expected-interval-us", paramLabel = "US", defaultValue = "0",
            description = "closed loop: HdrHistogram's coordinated-omission correction, recording for each "
                    + "latency above US the requests a steady sender would have made meanwhile (0 = off)")
    double coExpectedIntervalUs;

    @Option(names = "--udp", description = "UDP echo load instead of TCP: --connections connected sockets, "
            + "--depth datagrams of --size bytes (16..65507) in flight each (see UdpLoad)")
    boolean udp;

    @Spec
    CommandSpec spec;

    private InetSocketAddress validate() {
        check(port >= 1 && port <= 65535, "--port must be 1..65535: " + port);
        check(connections >= 1 && connections <= 1_000_000, "--connections must be 1..1000000: " + connections);
        check(depth >= 1 && depth <= 65_536, "--depth must be 1..65536: " + depth);
        check(size >= 1 && size <= 16 << 20, "--size must be 1..16777216: " + size);
        check(duration > 0 && duration <= 86_400, "--duration must be more than 0 and at most 86400 s: "
                + duration);
        check(warmup >= 0 && warmup <= 86_400, "--warmup must be 0..86400 s: " + warmup);
        check(reactors >= 1 && reactors <= 1024, "--reactors must be 1..1024: " + reactors);
        check(protocol.equals("echo") || protocol.equals("http") || protocol.equals("resp"),
                "--protocol must be echo, http or resp: " + protocol);
        check(path.startsWith("/") && path.chars().allMatch(ch -> ch > 0x20 && ch < 0x7f),
                "--path must start with / and be visible ASCII: " + path);
        check(keys >= 1, "--keys must be at least 1: " + keys);
        check(setPercent >= 0 && setPercent <= 100, "--set-percent must be 0..100: " + setPercent);
        check(rate >= 0 && rate <= 1e9, "--rate must be 0..1000000000: " + rate);
        check(coExpectedIntervalUs >= 0, "--co-expected-interval-us must be >= 0: " + coExpectedIntervalUs);
        check(rate == 0 || coExpectedIntervalUs == 0,
                "--co-expected-interval-us corrects the closed loop; --rate (open loop) needs no correction");
        try {
            return new InetSocketAddress(InetAddress.getByName(host), port);
        } catch (UnknownHostException e) {
            throw new ParameterException(spec.commandLine(), "--host: cannot resolve '" + host + "'");
        }
    }

    private void check(boolean ok, String message) {
        if (!ok) {
            throw new ParameterException(spec.commandLine(), message);
        }
    }

    @Override
    public Integer call() throws Exception {
        InetSocketAddress remote = validate();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (udp) {
            return UdpLoad.run(remote, connections, depth, size, warmup, duration, reactors, out, err);
        }
        LoadStats stats = new LoadStats(err, (long) (coExpectedIntervalUs * 1000));
        ReactorGroup group = ReactorGroup.builder().size(reactors).name("loadgen").daemon(true).build();
        try {
            List<PacedConnection> load = connect(group, remote, stats);
            Histogram total = run(load, stats, err);
            stats.stop();
            group.close(); // drops the connections; their onClose sees stopping and counts no error
            long failures = load.stream().mapToLong(h -> h instanceof ProtocolConnection p ? p.failures() : 0).sum();
            out.println(result(total, stats.errors(), failures));
            out.flush();
            if (failures > 0) {
                err.println("loadgen: " + failures + " responses reported a failure (HTTP status >= 400, "
                        + "Connection: close, or a RESP error)");
            }
        } finally {
            stats.stop();
            group.close();
        }
        if (stats.errors() > 0) {
            err.println("loadgen: " + stats.errors() + " errors (failed connections or wrong bytes)");
            err.flush();
            return 1;
        }
        return 0;
    }

    /** Opens every connection, spread round-robin over the reactors; waits until each is open or failed. */
    /** Connection {@code i}'s handler for the chosen protocol and loop. */
    private PacedConnection newConnection(int i, LoadStats stats) {
        long interval = rate > 0 ? (long) (connections * 1e9 / rate) : 0; // each connection's share of the rate
        switch (protocol) {
            case "http":
                return new ProtocolConnection(i, depth, stats, interval, new HttpProtocol(host, path));
            case "resp":
                return new ProtocolConnection(i, depth, stats, interval,
                        new RespProtocol(keys, setPercent, size, 0x9E3779B97F4A7C15L * (i + 1)));
            default:
                return new LoadConnection(i, size, depth, stats, interval);
        }
    }

    private List<PacedConnection> connect(ReactorGroup group, InetSocketAddress remote, LoadStats stats)
            throws InterruptedException {
        List<PacedConnection> load = new ArrayList<>(connections);
        List<CompletableFuture<Connection>> opening = new ArrayList<>(connections);
        for (int i = 0; i < connections; i++) {
            PacedConnection h = newConnection(i, stats);
            load.add(h);
            opening.add(TcpClient.builder(group.next()).remote(remote).handler(h).connect());
        }
        try {
            CompletableFuture.allOf(opening.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException failedConnects) {
            // each failure was counted and reported by its handler's onClose
        } catch (TimeoutException e) {
            stats.failed("connections still not open after 60 s");
        }
        return load;
    }

    /** Starts the load, prints progress each second, and returns the histogram of the measured part. */
    private Histogram run(List<? extends PacedConnection> load, LoadStats stats, PrintWriter err) {
        for (PacedConnection h : load) {
            Connection c = h.connection();
            if (c != null && c.isOpen()) {
                c.reactor().execute(h::begin);
            }
        }
        long begin = System.nanoTime();
        long measureFrom = begin + (long) (warmup * SECOND);
        long end = measureFrom + (long) (duration * SECOND);
        boolean warming = measureFrom > begin;
        long measuredSince = begin;
        long lastTick = begin;
        long nextTick = begin + SECOND;
        Histogram total = new Histogram(3);
        Histogram second = new Histogram(3);
        Histogram interval = null;
        boolean secondWarming = warming; // whether the current progress second saw any of the warm-up
        while (true) {
            long until = Math.min(nextTick, warming ? measureFrom : end);
            for (long now; (now = System.nanoTime()) < until; ) {
                LockSupport.parkNanos(until - now); // the load runs on the reactors; this thread only keeps time
            }
            long now = System.nanoTime();
            interval = stats.interval(interval); // every round trip since the previous call
            second.add(interval);
            if (!warming) {
                total.add(interval);
            }
            boolean over = !warming && now >= end || stats.errors() >= connections;
            if (now >= nextTick || over) {
                progress(err, now - begin, second, now - lastTick, stats.errors(), secondWarming);
                second.reset();
                secondWarming = warming && now < measureFrom;
                lastTick = now;
                nextTick += SECOND;
            }
            if (warming && now >= measureFrom) {
                warming = false; // the swap above ended the warm-up's interval: the total starts empty here
                measuredSince = now;
            }
            if (over) {
                stats.stop();
                measuredSeconds = (now - measuredSince) / 1e9;
                return total;
            }
        }
    }

    /** Length of the measured part, in seconds. */
    private double measuredSeconds;

    private static void progress(PrintWriter err, long sinceStart, Histogram h, long span, long errors,
                                 boolean warming) {
        double secs = span / 1e9;
        err.println(String.format(Locale.ROOT, "loadgen: %5.1fs msgs/s=%.0f p50_us=%.1f p99_us=%.1f errors=%d%s",
                sinceStart / 1e9, secs > 0 ? h.getTotalCount() / secs : 0.0, h.getValueAtPercentile(50) / 1e3,
                h.getValueAtPercentile(99) / 1e3, errors, warming ? " (warm-up)" : ""));
        err.flush();
    }

    private String result(Histogram h, long errors, long failures) {
        long n = h.getTotalCount();
        String line = String.format(Locale.ROOT, "msgs_per_s=%.0f p50_us=%.1f p99_us=%.1f p999_us=%.1f errors=%d "
                        + "mean_us=%.1f max_us=%.1f msgs=%d secs=%.2f conns=%d depth=%d size=%d",
                measuredSeconds > 0 ? n / measuredSeconds : 0.0, h.getValueAtPercentile(50) / 1e3, h.getValueAtPercentile(99) / 1e3,
                h.getValueAtPercentile(99.9) / 1e3, errors, n > 0 ? h.getMean() / 1e3 : 0.0, h.getMaxValue() / 1e3,
                n, measuredSeconds, connections, depth, size);
        // Extra fields only away from the defaults: the C loadgen's format stays as it was for echo.
        if (rate > 0) {
            line += String.format(Locale.ROOT, " rate=%.0f", rate);
        }
        if (coExpectedIntervalUs > 0) {
            line += String.format(Locale.ROOT, " co_expected_interval_us=%.1f", coExpectedIntervalUs);
        }
        if (!protocol.equals("echo")) {
            line += " protocol=" + protocol + " failures=" + failures;
        }
        return line;
    }
}
