package org.epoll4j.readme;

// README-BEGIN
import org.epoll4j.Reactor;
import org.epoll4j.net.Connection;
import org.epoll4j.net.ConnectionHandler;
import org.epoll4j.net.TcpServer;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

public final class ReadmeEchoExample implements ConnectionHandler {
    @Override
    public void onData(Connection connection, ByteBuffer data) {
        connection.write(data);                 // straight to the socket; what it can't take is queued
        if (!connection.isWritable()) {         // the peer is not reading its echoes:
            connection.pauseReading();          // stop reading from it until the queue drains
        }
    }

    @Override
    public void onWritabilityChanged(Connection connection, boolean writable) {
        if (writable) {
            connection.resumeReading();
        }
    }

    /** Starts an echo server on its own reactor thread; returns the server (its port: server.port()). */
    public static TcpServer start(Reactor reactor, int port) throws Exception {
        TcpServer server = TcpServer.builder(reactor)
                .bind(new InetSocketAddress("127.0.0.1", port))
                .handler(new ReadmeEchoExample())
                .start();
        reactor.start();
        return server;
    }
}
// README-END
