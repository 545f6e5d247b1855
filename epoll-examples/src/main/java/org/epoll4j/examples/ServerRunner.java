package org.epoll4j.examples;

import org.epoll4j.ReactorGroup;
import org.epoll4j.net.TcpServerGroup;

import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Runs an example server the same way for every program: a {@link TcpServerGroup} on N reactors with the chosen
 * accept strategy, the {@code listening on HOST:PORT} line first, then serving until SIGINT/SIGTERM, then a one-line
 * summary.
 */
public final class ServerRunner {
    private static final Duration QUIET = Duration.ofMillis(100);
    private static final Duration GRACE = Duration.ofSeconds(3);

    private ServerRunner() {
    }

    /**
     * Serves until the JVM is asked to stop, or until {@code stop} counts down (tests).
     *
     * @param program   the program's name, for messages
     * @param options   the common server options
     * @param port      the program's default port, used when {@code --port} is not given
     * @param configure sets the handler (and anything else) on the server's builder, which already has the
     *                  address, accept strategy and connection settings from {@code options}
     * @param summary   the one-line summary printed after the servers stop
     * @param out       where the listening line and the summary go
     * @param err       where a failure to start goes
     * @param stop      counted down to stop without a signal; may be {@code null}
     * @return the exit status: 0 after a clean stop, 1 if the server could not start
     * @throws InterruptedException if interrupted while serving
     */
    public static int serve(String program, ServerOptions options, int port,
                     Consumer<TcpServerGroup.Builder> configure, Supplier<String> summary,
                     PrintWriter out, PrintWriter err, CountDownLatch stop) throws InterruptedException {
        return run(program, options, port, "listen on", (group, address) -> {
            TcpServerGroup.Builder b = TcpServerGroup.builder(group)
                    .bind(address)
                    .accept(options.accept)
                    .config(options.config());
            configure.accept(b);
            TcpServerGroup server = b.start();
            // The server stops listening and closes its connections gracefully (queued bytes are sent first).
            return new Listening((InetSocketAddress) server.localAddress(), "", () -> {
                group.shutdownGracefully(QUIET, GRACE).join();
                group.awaitTermination(GRACE); // the loops have returned; let their threads end too
            });
        }, summary, out, err, stop);
    }

    /**
     * What a program listens on, once its listeners are open.
     *
     * @param bound  the address the listening line shows
     * @param suffix appended to the listening line (e.g. {@code " (udp)"})
     * @param stop   stops serving and ends the group's threads (bounded)
     */
    record Listening(InetSocketAddress bound, String suffix, Stop stop) {
    }

    /** Stops what {@link Serve} opened. */
    @FunctionalInterface
    interface Stop {
        void run() throws InterruptedException;
    }

    /** Opens a program's listeners on a started group; a failure closes the group. */
    @FunctionalInterface
    interface Serve {
        Listening open(ReactorGroup group, InetSocketAddress address) throws Exception;
    }

    /**
     * The harness every example shares: start the reactors, open the listeners with {@code serve}, print the
     * listening line, wait for SIGINT/SIGTERM or {@code stop}, stop, print the summary.
     *
     * @param failing the verb of the "cannot ... HOST:PORT" message when {@code serve} fails
     */
    static int run(String program, ServerOptions options, int port, String failing, Serve serve,
                   Supplier<String> summary, PrintWriter out, PrintWriter err, CountDownLatch stop)
            throws InterruptedException {
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
        Listening listening;
        try {
            listening = serve.open(group, new InetSocketAddress(InetAddress.getByName(options.host), port));
        } catch (Exception e) {
            group.close();
            err.println(program + ": cannot " + failing + " " + options.host + ":" + port + ": " + e.getMessage());
            return 1;
        }
        InetSocketAddress bound = listening.bound();
        out.println("listening on " + bound.getAddress().getHostAddress() + ":" + bound.getPort()
                + listening.suffix());
        out.flush();

        CountDownLatch stopped = new CountDownLatch(1);
        Thread main = Thread.currentThread();
        Thread hook = new Thread(() -> {
            stopped.countDown();
            try {
                main.join(GRACE.toMillis() + 2000); // let main print the summary before the JVM exits
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
        listening.stop().run();
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
}
