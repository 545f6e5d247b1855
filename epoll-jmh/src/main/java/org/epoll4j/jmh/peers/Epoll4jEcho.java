package org.epoll4j.jmh.peers;

import org.epoll4j.Reactor;
import org.epoll4j.net.Connection;
import org.epoll4j.net.ConnectionHandler;
import org.epoll4j.net.TcpServer;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;

/**
 * This library's echo server, as the echo example writes it: a {@link TcpServer} on one {@link Reactor} thread
 * (default EDGE trigger), every byte written back, reading paused while a slow client's queue is above the high
 * watermark.
 */
public final class Epoll4jEcho implements EchoPeer {
    private final Reactor reactor;
    private final TcpServer server;

    private Epoll4jEcho(Reactor reactor, TcpServer server) {
        this.reactor = reactor;
        this.server = server;
    }

    /** Echoes; pauses reading from a client that does not read its echoes. */
    static final class Handler implements ConnectionHandler {
        @Override
        public void onData(Connection connection, ByteBuffer data) {
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
     * Starts the server on 127.0.0.1.
     *
     * @param port the port, 0 for any
     * @return the running server
     * @throws Exception if it cannot bind
     */
    public static Epoll4jEcho start(int port) throws Exception {
        Reactor reactor = Reactor.builder().name("epoll4j-echo").build();
        try {
            TcpServer server = TcpServer.builder(reactor)
                    .bind(new InetSocketAddress("127.0.0.1", port))
                    .backlog(4096)
                    .handler(new Handler())
                    .start();
            reactor.start();
            return new Epoll4jEcho(reactor, server);
        } catch (Exception | Error e) {
            reactor.close();
            throw e;
        }
    }

    @Override
    public int port() {
        return server.port();
    }

    @Override
    public void close() {
        try {
            reactor.execute(server::close);
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            // already closed
        }
        reactor.close();
        try {
            reactor.awaitTermination(Duration.ofSeconds(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Runs it as a process: {@code Epoll4jEcho PORT}.
     *
     * @param args the port
     * @throws Exception if it cannot start
     */
    public static void main(String[] args) throws Exception {
        EchoPeer.serveForever(Transport.EPOLL4J, args);
    }
}
