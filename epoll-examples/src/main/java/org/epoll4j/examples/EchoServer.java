package org.epoll4j.examples;

import org.epoll4j.Reactor;
import org.epoll4j.TriggerMode;
import org.epoll4j.net.Connection;
import org.epoll4j.net.ConnectionConfig;
import org.epoll4j.net.ConnectionHandler;
import org.epoll4j.net.TcpServer;

import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.Locale;

/**
 * The seed article's echo server rebuilt on epoll4j: one reactor, every byte read is written back. Nothing is lost
 * when a client reads slowly: writes the socket does not take are queued, and reading from a client pauses while
 * its queue is above the high watermark.
 */
public final class EchoServer {
    private EchoServer() {
    }

    /** Echoes data back; pauses reading from a client that does not read its echoes. */
    static final class EchoHandler implements ConnectionHandler {
        long connections;
        long bytes;

        @Override
        public void onOpen(Connection connection) {
            connections++;
        }

        @Override
        public void onData(Connection connection, ByteBuffer data) {
            bytes += data.remaining();
            connection.write(data);
            if (!connection.isWritable()) {
                connection.pauseReading();
            }
        }

        @Override
        public void onWritabilityChanged(Connection connection, boolean writable) {
            if (writable) {
                connection.resumeReading();
            }
        }
    }

    /**
     * Parses the options, serves until SIGINT/SIGTERM, prints a summary.
     *
     * @param args {@code --port P --host H --trigger edge|level --help}
     * @param out  where {@code listening on HOST:PORT} and the summary go
     * @param err  where usage errors go
     * @return the exit status
     * @throws Exception if the server cannot start
     */
    static int run(String[] args, PrintStream out, PrintStream err) throws Exception {
        String host = "127.0.0.1";
        int port = 7007;
        TriggerMode trigger = ConnectionConfig.defaults().trigger();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--help", "-h" -> {
                    out.println("usage: echo [--port P] [--host H] [--trigger edge|level]\n"
                            + "  --port P       port to listen on (default 7007; 0 = any free port)\n"
                            + "  --host H       address to bind (default 127.0.0.1)\n"
                            + "  --trigger T    edge or level (default " + trigger.name().toLowerCase(Locale.ROOT)
                            + ")");
                    return 0;
                }
                case "--port", "--host", "--trigger" -> {
                    if (i + 1 >= args.length) {
                        err.println("echo: " + a + " needs a value (try --help)");
                        return 2;
                    }
                    String v = args[++i];
                    try {
                        if (a.equals("--port")) {
                            port = Integer.parseInt(v);
                            if (port < 0 || port > 65535) {
                                throw new NumberFormatException();
                            }
                        } else if (a.equals("--host")) {
                            host = v;
                        } else {
                            trigger = TriggerMode.valueOf(v.toUpperCase(Locale.ROOT));
                        }
                    } catch (IllegalArgumentException e) {
                        err.println("echo: bad value for " + a + ": " + v + (a.equals("--port") ? " (0..65535)"
                                : a.equals("--trigger") ? " (edge or level)" : ""));
                        return 2;
                    }
                }
                default -> {
                    err.println("echo: unknown option " + a + " (try --help)");
                    return 2;
                }
            }
        }
        Reactor reactor = Reactor.builder().name("echo").build();
        EchoHandler handler = new EchoHandler();
        TcpServer server;
        try {
            server = TcpServer.builder(reactor)
                    .bind(new InetSocketAddress(InetAddress.getByName(host), port))
                    .config(ConnectionConfig.defaults().withTrigger(trigger))
                    .handler(handler)
                    .start();
        } catch (Exception e) {
            reactor.close();
            err.println("echo: cannot listen on " + host + ":" + port + ": " + e.getMessage());
            return 1;
        }
        InetSocketAddress bound = (InetSocketAddress) server.localAddress();
        out.println("listening on " + bound.getAddress().getHostAddress() + ":" + bound.getPort());
        out.flush();
        Thread main = Thread.currentThread();
        Thread hook = new Thread(() -> {
            reactor.close();
            try {
                main.join(5000);
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
        }, "echo-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        reactor.run();
        out.println("echo: stopped; " + handler.connections + " connections, " + handler.bytes + " bytes echoed");
        out.flush();
        return 0;
    }
}
