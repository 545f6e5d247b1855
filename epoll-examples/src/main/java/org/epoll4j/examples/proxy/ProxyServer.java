package org.epoll4j.examples.proxy;

import org.epoll4j.examples.ServerOptions;
import org.epoll4j.examples.ServerRunner;
import org.epoll4j.examples.VersionProvider;
import org.epoll4j.net.ConnectionConfig;
import org.epoll4j.net.RateLimit;
import org.epoll4j.net.Resolver;
import org.epoll4j.net.SockOpt;
import org.epoll4j.net.SockOpts;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * A TCP proxy: every client connection gets a connection of its own to the upstream, on the same reactor thread,
 * and bytes are relayed both ways with backpressure (a side whose peer cannot keep up stops being read), half-close
 * passed on, an upstream connect timeout, an idle timeout and a cap on connections.
 */
@Command(name = "proxy", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = {"TCP proxy: relays every client connection to --to HOST:PORT (try it in front of the echo "
                + "example: proxy --to 127.0.0.1:7007, then nc 127.0.0.1 7009).",
                "Backpressure both ways, half-close passed on, connect and idle timeouts, a connection cap, a "
                        + "per-client rate limit."})
public final class ProxyServer implements Callable<Integer> {
    static final int DEFAULT_PORT = 7009;

    @Mixin
    ServerOptions options;

    @Option(names = "--to", paramLabel = "HOST:PORT", required = true,
            description = "the upstream: a name (resolved off the loop, cached; IPv4 and IPv6 addresses raced, "
                    + "happy eyeballs) or an address literal ([::1]:7007 for IPv6), and its port")
    String to;

    @Option(names = "--connect-timeout-ms", paramLabel = "MS", defaultValue = "5000",
            description = "an upstream connect taking longer fails, and its client is closed "
                    + "(default: ${DEFAULT-VALUE})")
    long connectTimeoutMs;

    @Option(names = "--idle-timeout-ms", paramLabel = "MS", defaultValue = "300000",
            description = "close a pair that relayed nothing either way for this long; it is noticed within twice "
                    + "this (0 = never; default: ${DEFAULT-VALUE})")
    long idleTimeoutMs;

    @Option(names = "--max-connections", paramLabel = "N", defaultValue = "10000",
            description = "most client connections relayed at once; more are closed as they come "
                    + "(default: ${DEFAULT-VALUE})")
    int maxConnections;

    @Option(names = "--watermark", paramLabel = "BYTES", defaultValue = "65536",
            description = "high write watermark of every connection: above it, the side feeding it stops being "
                    + "read until it drains to half; so a pair holds at most about 2 x (BYTES + 64 KiB) "
                    + "(default: ${DEFAULT-VALUE})")
    int watermark;

    @Option(names = "--read-size", paramLabel = "BYTES", defaultValue = "16384",
            description = "the most bytes each read of a socket takes (1..65536): smaller reads pass a bulk stream on "
                    + "sooner (16 KiB, HAProxy's buffer size, relayed one connection's 1,000 MiB 1.2x faster than "
                    + "64 KiB; with --splice each splice call moves up to the pipe's room instead; "
                    + "default: ${DEFAULT-VALUE})")
    int readSize;

    @Option(names = "--batched-writes", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "hold what each socket's reads relay until the loop has handled the whole batch of ready "
                    + "sockets, then send each connection's share in one call: the peers wake once per batch, not "
                    + "once per write (docs/examples.md has what it gains; on by default, "
                    + "--no-batched-writes sends each read's bytes at once)")
    boolean batchedWrites;

    @Option(names = "--rate-limit", paramLabel = "BYTES", defaultValue = "0",
            description = "bytes per second each client may send, and receive, at most (each direction of each pair "
                    + "is read no faster; bursts of a tenth of a second; 0 = no limit; default: ${DEFAULT-VALUE})")
    long rateLimit;

    @Option(names = "--socket-buffer", paramLabel = "BYTES", defaultValue = "0",
            description = "SO_SNDBUF and SO_RCVBUF of every connection, to bound what the kernel holds per pair too "
                    + "(Linux doubles the value; 0 = the kernel's autotuning, up to megabytes; default: "
                    + "${DEFAULT-VALUE})")
    int socketBuffer;

    @Option(names = "--splice",
            description = "move each pair's bytes with splice(2) through a pipe per direction, never copying them "
                    + "into the JVM (backpressure: the pipe's size instead of --watermark; not with --rate-limit)")
    boolean splice;

    @Option(names = "--pipe-size", paramLabel = "BYTES", defaultValue = "65536",
            description = "with --splice, each direction's pipe size (the kernel rounds it up to a power of two of "
                    + "pages; at most /proc/sys/fs/pipe-max-size; default: ${DEFAULT-VALUE})")
    int pipeSize;

    @Spec
    CommandSpec spec;

    /** Counted down by tests to stop the proxy without a signal. */
    CountDownLatch stop;

    /** The counters (made when the proxy starts), for tests. */
    volatile ProxyStats stats;

    /** Set by tests before the proxy starts: run after each connection closes and each new queue peak. */
    Runnable onStatsChange;

    @Override
    public Integer call() throws Exception {
        options.validate(spec);
        HostPort upstream = HostPort.parse(spec, to);
        if (connectTimeoutMs < 1 || connectTimeoutMs > 600_000) {
            throw new ParameterException(spec.commandLine(), "--connect-timeout-ms must be 1..600000: "
                    + connectTimeoutMs);
        }
        if (idleTimeoutMs < 0) {
            throw new ParameterException(spec.commandLine(), "--idle-timeout-ms must be >= 0: " + idleTimeoutMs);
        }
        if (maxConnections < 1) {
            throw new ParameterException(spec.commandLine(), "--max-connections must be at least 1: "
                    + maxConnections);
        }
        if (watermark < 2 || watermark > 1 << 30) {
            throw new ParameterException(spec.commandLine(), "--watermark must be 2..1073741824: " + watermark);
        }
        if (readSize < 1 || readSize > 65536) {
            throw new ParameterException(spec.commandLine(), "--read-size must be 1..65536: " + readSize);
        }
        if (rateLimit < 0) {
            throw new ParameterException(spec.commandLine(), "--rate-limit must be >= 0: " + rateLimit);
        }
        if (socketBuffer < 0) {
            throw new ParameterException(spec.commandLine(), "--socket-buffer must be >= 0: " + socketBuffer);
        }
        if (splice && rateLimit > 0) {
            throw new ParameterException(spec.commandLine(), "--splice and --rate-limit cannot be combined: "
                    + "spliced bytes never reach the JVM, where the limiter counts them");
        }
        if (pipeSize < 4096 || pipeSize > 1 << 30) {
            throw new ParameterException(spec.commandLine(), "--pipe-size must be 4096..1073741824: " + pipeSize);
        }
        SockOpts sockets = SockOpts.empty().with(SockOpt.TCP_NODELAY, true);
        if (socketBuffer > 0) {
            sockets = sockets.with(SockOpt.SO_SNDBUF, socketBuffer).with(SockOpt.SO_RCVBUF, socketBuffer);
        }
        SockOpts socketOptions = sockets;
        RateLimit limit;
        try {
            limit = rateLimit == 0 ? null : RateLimit.of(rateLimit, Math.max(rateLimit / 10, 1));
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--rate-limit: " + e.getMessage());
        }
        Duration idle = Duration.ofMillis(idleTimeoutMs);
        // The all-idle timer of each connection is only the idle check's clock: ProxyPair closes a pair when
        // neither of its sockets moved a byte since the previous check.
        ConnectionConfig config = options.config().withWriteWatermarks(watermark / 2, watermark)
                .withIdleTimeouts(Duration.ZERO, Duration.ZERO, idle).withReadSize(readSize)
                .withBatchedWrites(batchedWrites);
        ProxySettings settings = new ProxySettings(upstream.host(), upstream.port(), Resolver.system(),
                Duration.ofMillis(connectTimeoutMs), config, idle, maxConnections, limit, socketOptions,
                splice ? pipeSize : 0);
        ProxyStats counters = new ProxyStats(onStatsChange);
        stats = counters;
        return ServerRunner.serve("proxy", options, DEFAULT_PORT,
                b -> b.config(config).childOptions(socketOptions)
                        .handlerFactory(() -> new ProxyPair(settings, counters).client),
                counters::summary, spec.commandLine().getOut(), spec.commandLine().getErr(), stop);
    }

    /** {@code --to}'s value, split. */
    record HostPort(String host, int port) {
        static HostPort parse(CommandSpec spec, String value) {
            int colon = value.lastIndexOf(':');
            String host = colon > 0 ? value.substring(0, colon) : "";
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            } else if (host.contains(":")) {
                host = ""; // an IPv6 literal needs brackets: [::1]:7007
            }
            int port = -1;
            try {
                port = Integer.parseInt(value.substring(colon + 1));
            } catch (NumberFormatException | IndexOutOfBoundsException e) {
                // reported below
            }
            if (host.isEmpty() || port < 1 || port > 65535) {
                throw new ParameterException(spec.commandLine(), "--to must be HOST:PORT with a port 1..65535 "
                        + "([ADDRESS]:PORT for IPv6): " + value);
            }
            return new HostPort(host, port);
        }
    }
}
