package org.epoll4j.examples;

import org.epoll4j.ReactorGroup;
import org.epoll4j.net.DatagramConfig;
import org.epoll4j.net.DatagramEndpoint;
import org.epoll4j.net.DatagramHandler;

import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Runs a UDP example the way {@link ServerRunner} runs a TCP one: one {@link DatagramEndpoint} per reactor (all on
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
                            java.util.function.Consumer<List<DatagramEndpoint>> started, Supplier<String> summary,
                            PrintWriter out, PrintWriter err, CountDownLatch stop) throws InterruptedException {
        port = options.port(port);
        options.applyLogging();
        ReactorGroup group;
        try {
            group = ReactorGroup.builder().size(options.reactors).name(program)
                    .reactorSettings(options::reactorSettings).build();
        } catch (Exception e) {
            err.println(program + ": cannot start " + options.reactors + " reactors: " + e.getMessage());
            return 1;
        }
        List<DatagramEndpoint> endpoints;
        InetSocketAddress bound;
        try {
            int[] next = {0};
            endpoints = DatagramEndpoint.openOnEach(group,
                    new InetSocketAddress(InetAddress.getByName(options.host), port), config,
                    () -> handlers.apply(next[0]++));
            bound = (InetSocketAddress) localAddress(endpoints.get(0));
            if (started != null) {
                started.accept(endpoints);
            }
        } catch (Exception e) {
            group.close();
            err.println(program + ": cannot bind udp " + options.host + ":" + port + ": " + e.getMessage());
            return 1;
        }
        out.println("listening on " + bound.getAddress().getHostAddress() + ":" + bound.getPort() + " (udp)");
        out.flush();

        CountDownLatch stopped = new CountDownLatch(1);
        Thread main = Thread.currentThread();
        Thread hook = new Thread(() -> {
            stopped.countDown();
            try {
                main.join(5000); // let main print the summary before the JVM exits
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, program + "-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        if (stop != null) {
            Thread watcher = new Thread(() -> {
                try {
                    stop.await();
                } catch (InterruptedException e) {
                    return;
                }
                stopped.countDown();
            }, program + "-stop");
            watcher.setDaemon(true);
            watcher.start();
        }
        stopped.await();
        endpoints.forEach(DatagramEndpoint::close);
        group.close();
        group.awaitTermination(java.time.Duration.ofSeconds(3));
        out.println(program + ": stopped; " + summary.get());
        out.flush();
        if (stop != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the JVM is exiting anyway
            }
        }
        return 0;
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
