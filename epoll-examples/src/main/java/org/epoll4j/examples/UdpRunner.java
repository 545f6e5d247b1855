package org.epoll4j.examples;

import org.epoll4j.net.DatagramConfig;
import org.epoll4j.net.DatagramEndpoint;
import org.epoll4j.net.DatagramHandler;

import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Runs a UDP example with {@link ServerRunner}'s harness: one {@link DatagramEndpoint} per reactor (all on
 * the same port, {@code SO_REUSEPORT}), the {@code listening on HOST:PORT (udp)} line first, then serving until
 * SIGINT/SIGTERM (or {@code stop}), then a one-line summary.
 */
public final class UdpRunner {
    private UdpRunner() {
    }

    /**
     * Serves until the JVM is asked to stop, or until {@code stop} counts down.
     *
     * @param program  the program's name, for messages
     * @param options  the common server options ({@code --host}, {@code --port}, {@code --reactors}, logging)
     * @param port     the default port
     * @param config   the endpoints' config
     * @param handlers a handler for each endpoint, given the endpoint's index
     * @param started  called with the endpoints once they are open (e.g. to schedule flushes); may be {@code null}
     * @param summary  the summary printed after the endpoints closed
     * @param out      standard output
     * @param err      standard error
     * @param stop     counted down to stop without a signal; may be {@code null}
     * @return 0 after a clean stop, 1 if the endpoints could not open
     * @throws InterruptedException if interrupted while serving
     */
    public static int serve(String program, ServerOptions options, int port, DatagramConfig config,
                            Function<Integer, DatagramHandler> handlers,
                            Consumer<List<DatagramEndpoint>> started, Supplier<String> summary,
                            PrintWriter out, PrintWriter err, CountDownLatch stop) throws InterruptedException {
        return ServerRunner.run(program, options, port, "bind udp", (group, address) -> {
            int[] next = {0};
            List<DatagramEndpoint> endpoints = DatagramEndpoint.openOnEach(group, address, config,
                    () -> handlers.apply(next[0]++));
            InetSocketAddress bound = (InetSocketAddress) localAddress(endpoints.get(0));
            if (started != null) {
                started.accept(endpoints);
            }
            return new ServerRunner.Listening(bound, " (udp)", () -> {
                endpoints.forEach(DatagramEndpoint::close);
                group.close();
                group.awaitTermination(Duration.ofSeconds(3));
            });
        }, summary, out, err, stop);
    }

    /** The endpoint's local address, read on its reactor's thread. */
    private static java.net.SocketAddress localAddress(DatagramEndpoint ep) throws Exception {
        java.util.concurrent.CompletableFuture<java.net.SocketAddress> f = new java.util.concurrent.CompletableFuture<>();
        ep.reactor().execute(() -> {
            try {
                f.complete(ep.localAddress());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return f.get(10, java.util.concurrent.TimeUnit.SECONDS);
    }
}
