package org.epoll4j.jmh.peers;

import java.util.Locale;
import java.util.concurrent.CountDownLatch;

/**
 * A running echo server of one transport, listening on 127.0.0.1 with one event-loop thread. The three transports
 * are written in their idiomatic best form: {@link Epoll4jEcho}, {@link NettyEcho} (Netty's native epoll, JNI),
 * {@link NioEcho} (the JDK's {@code Selector}).
 */
public interface EchoPeer extends AutoCloseable {
    /** The port it listens on. */
    int port();

    /** Stops it and releases its threads and sockets. */
    @Override
    void close();

    /** The transports, by the names the benchmarks and the comparison use. */
    enum Transport {
        /** This library: {@code TcpServer} on one {@code Reactor}. */
        EPOLL4J,
        /** Netty 4.2, native epoll transport, one event loop. */
        NETTY,
        /** The JDK's NIO {@code Selector}, one thread. */
        NIO;

        /**
         * Starts this transport's echo server.
         *
         * @param port the port, 0 for any free one
         * @return the running server
         * @throws Exception if it cannot start
         */
        public EchoPeer start(int port) throws Exception {
            switch (this) {
                case EPOLL4J:
                    return Epoll4jEcho.start(port);
                case NETTY:
                    return NettyEcho.start(port);
                default:
                    return NioEcho.start(port);
            }
        }

        /** Lower-case name. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * Runs a peer as a process of its own until it is killed: {@code PeerMain TRANSPORT PORT}. Prints one line
     * when it accepts connections.
     *
     * @param transport which server
     * @param args      the command line: the port
     * @throws Exception if it cannot start
     */
    static void serveForever(Transport transport, String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: " + transport.label() + "-echo PORT");
            System.exit(2);
        }
        EchoPeer peer = transport.start(Integer.parseInt(args[0]));
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            peer.close();
            stop.countDown();
        }));
        System.out.println(transport.label() + " echo listening on 127.0.0.1:" + peer.port());
        System.out.flush();
        stop.await();
    }
}
