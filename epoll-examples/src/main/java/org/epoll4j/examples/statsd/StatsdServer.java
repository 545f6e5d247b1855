package org.epoll4j.examples.statsd;

import org.epoll4j.examples.Main;
import org.epoll4j.examples.ServerOptions;
import org.epoll4j.examples.UdpRunner;
import org.epoll4j.net.Datagram;
import org.epoll4j.net.DatagramConfig;
import org.epoll4j.net.DatagramEndpoint;
import org.epoll4j.net.DatagramHandler;
import org.epoll4j.net.SockOpt;
import org.epoll4j.net.SockOpts;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A StatsD-compatible metrics aggregator: clients send {@code name:value|type} lines over UDP (counters, gauges with
 * {@code +/-} deltas, timers/histograms, sets, sample rates {@code |@0.1}); every {@code --flush-ms} the aggregates go
 * to standard output, or to a TCP sink (Graphite's plaintext protocol: {@code path value timestamp}).
 *
 * <p>One reactor receives and aggregates (datagrams in batches from {@code recvmmsg}); the flush runs as a timer on
 * that reactor, and writing to a TCP sink happens on a separate thread so a slow sink never stalls the loop.
 */
@Command(name = "statsd", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "StatsD-compatible metrics aggregator on UDP (try: echo 'hits:1|c' | nc -u -w1 127.0.0.1 8125).")
public final class StatsdServer implements Callable<Integer> {
    static final int DEFAULT_PORT = 8125;

    @Mixin
    ServerOptions options;

    @Spec
    CommandSpec spec;

    @Option(names = "--flush-ms", paramLabel = "MS", defaultValue = "10000",
            description = "flush interval in milliseconds (default: ${DEFAULT-VALUE})")
    long flushMs;

    @Option(names = "--sink", paramLabel = "HOST:PORT",
            description = "send each flush to this TCP address (Graphite plaintext) instead of standard output")
    String sink;

    @Option(names = "--prefix", paramLabel = "PREFIX", defaultValue = "stats.",
            description = "prefix of every metric path (default: ${DEFAULT-VALUE})")
    String prefix;

    @Option(names = "--percentiles", paramLabel = "P", split = ",", defaultValue = "50,90,99",
            description = "timer percentiles to report (default: ${DEFAULT-VALUE})")
    int[] percentiles;

    /** Counted down by tests to stop without a signal. */
    public CountDownLatch stop;

    /** Receives datagrams into the metrics. */
    static final class Handler implements DatagramHandler {
        final Metrics metrics = new Metrics();
        long datagrams;

        @Override
        public void onDatagram(DatagramEndpoint endpoint, Datagram datagram) {
            datagrams++;
            StatsdParser.parse(datagram.data(), metrics);
        }

        @Override
        public void onTruncated(DatagramEndpoint endpoint, Datagram datagram) {
            metrics.bad++;
        }
    }

    @Override
    public Integer call() throws Exception {
        options.validate(spec);
        if (flushMs < 1) {
            throw new ParameterException(spec.commandLine(), "--flush-ms must be at least 1: " + flushMs);
        }
        for (int p : percentiles) {
            if (p < 1 || p > 100) {
                throw new ParameterException(spec.commandLine(), "--percentiles must be 1..100: " + p);
            }
        }
        InetSocketAddress sinkAddress = sink == null ? null : parseSink(sink);
        PrintWriter out = spec.commandLine().getOut();
        ExecutorService sinkWriter = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "statsd-sink");
            t.setDaemon(true);
            return t;
        });
        Handler handler = new Handler();
        DatagramConfig config = DatagramConfig.builder().maxDatagramSize(65_507).batchSize(64)
                .sockOpts(SockOpts.empty().with(SockOpt.SO_RCVBUF, 4 << 20)).build();
        try {
            // one reactor aggregates: the flush timer runs on it
            options.reactorsOverride(1);
            return UdpRunner.serve("statsd", options, DEFAULT_PORT, config, i -> handler, endpoints -> {
                DatagramEndpoint ep = endpoints.get(0);
                long[] last = {System.nanoTime()};
                Runnable[] flush = new Runnable[1];
                flush[0] = () -> {
                    long now = System.nanoTime();
                    double secs = Math.max(1e-3, (now - last[0]) / 1e9);
                    last[0] = now;
                    String text = handler.metrics.flush(prefix, secs, System.currentTimeMillis() / 1000, percentiles);
                    if (!text.isEmpty()) {
                        if (sinkAddress == null) {
                            out.print(text);
                            out.flush();
                        } else {
                            sinkWriter.execute(() -> send(sinkAddress, text, spec.commandLine().getErr()));
                        }
                    }
                    if (ep.isOpen()) {
                        ep.reactor().schedule(Duration.ofMillis(flushMs), flush[0]);
                    }
                };
                ep.reactor().schedule(Duration.ofMillis(flushMs), flush[0]);
            }, () -> handler.datagrams + " datagrams, " + handler.metrics.lines + " metric lines ("
                    + handler.metrics.bad + " malformed)", out, spec.commandLine().getErr(), stop);
        } finally {
            sinkWriter.shutdown();
        }
    }

    private InetSocketAddress parseSink(String value) {
        int colon = value.lastIndexOf(':');
        try {
            if (colon <= 0) {
                throw new NumberFormatException();
            }
            int port = Integer.parseInt(value.substring(colon + 1));
            if (port < 1 || port > 65535) {
                throw new NumberFormatException();
            }
            return new InetSocketAddress(value.substring(0, colon), port);
        } catch (NumberFormatException e) {
            throw new ParameterException(spec.commandLine(), "--sink must be HOST:PORT: " + value);
        }
    }

    /** One connection per flush: simple, and a sink that restarts between flushes costs nothing. */
    private static void send(InetSocketAddress to, String text, PrintWriter err) {
        try (Socket s = new Socket()) {
            s.connect(to, 5000);
            OutputStream o = s.getOutputStream();
            o.write(text.getBytes(StandardCharsets.UTF_8));
            o.flush();
        } catch (IOException e) {
            err.println("statsd: cannot flush to " + to + ": " + e.getMessage());
            err.flush();
        }
    }
}
