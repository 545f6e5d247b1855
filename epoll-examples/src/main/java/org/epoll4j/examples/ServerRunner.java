package org.epoll4j.examples;

import org.epoll4j.Reactor;
import org.epoll4j.ReactorGroup;
import org.epoll4j.net.SocketOption;
import org.epoll4j.net.SocketOptions;
import org.epoll4j.net.TcpServer;

import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.function.BiConsumer;
import java.util.function.Supplier;

/**
 * Runs an example server the same way for every program: N reactors (one {@code SO_REUSEPORT} listener each when
 * N &gt; 1), the {@code listening on HOST:PORT} line first, then serving until SIGINT/SIGTERM, then a one-line
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
     * @param configure sets the handler (and anything else) on each reactor's server builder; called on the
     *                  starting thread once per reactor, with the reactor's index
     * @param summary   the one-line summary printed after the servers stop
     * @param out       where the listening line and the summary go
     * @param err       where a failure to start goes
     * @param stop      counted down to stop without a signal; may be {@code null}
     * @return the exit status: 0 after a clean stop, 1 if the server could not start
     * @throws InterruptedException if interrupted while serving
     */
    public static int serve(String program, ServerOptions options, int port,
                     BiConsumer<Integer, TcpServer.Builder> configure, Supplier<String> summary,
                     PrintWriter out, PrintWriter err, CountDownLatch stop) throws InterruptedException {
        port = options.port(port);
        ReactorGroup group;
        try {
            group = ReactorGroup.builder().size(options.reactors).name(program).build();
        } catch (Exception e) {
            err.println(program + ": cannot start " + options.reactors + " reactors: " + e.getMessage());
            return 1;
        }
        List<TcpServer> servers = new ArrayList<>();
        InetSocketAddress bound;
        try {
            InetSocketAddress address = new InetSocketAddress(InetAddress.getByName(options.host), port);
            for (int i = 0; i < group.size(); i++) {
                Reactor reactor = group.reactor(i);
                TcpServer.Builder b = TcpServer.builder(reactor).bind(address).config(options.config());
                if (group.size() > 1) {
                    b.options(SocketOptions.empty().with(SocketOption.SO_REUSEADDR, true)
                            .with(SocketOption.SO_REUSEPORT, true));
                }
                configure.accept(i, b);
                TcpServer s = b.start();
                servers.add(s);
                // Port 0: the others join the port the kernel picked for the first.
                address = (InetSocketAddress) s.localAddress();
            }
            bound = address;
        } catch (Exception e) {
            servers.forEach(TcpServer::close);
            group.close();
            err.println(program + ": cannot listen on " + options.host + ":" + port + ": " + e.getMessage());
            return 1;
        }
        out.println("listening on " + bound.getAddress().getHostAddress() + ":" + bound.getPort());
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
        group.addShutdownListener(() -> servers.forEach(TcpServer::close));
        group.shutdownGracefully(QUIET, GRACE).join();
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
