package org.epoll4j.readme;

// README-BEGIN
import org.epoll4j.Reactor;
import org.epoll4j.net.BlockingConnection;
import org.epoll4j.net.BlockingService;
import org.epoll4j.net.Connection;
import org.epoll4j.net.ConnectionHandler;
import org.epoll4j.net.TcpServer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

public final class GuideTwoStylesExample {
    /** Callbacks: the reactor thread calls onData for every chunk; nothing in here may block. */
    public static TcpServer callbackEcho(Reactor reactor) throws IOException {
        return TcpServer.builder(reactor)
                .bind(new InetSocketAddress("127.0.0.1", 0))
                .handler(new ConnectionHandler() {
                    @Override
                    public void onData(Connection conn, ByteBuffer data) {
                        conn.write(data);
                        if (!conn.isWritable()) {
                            conn.pauseReading();     // backpressure by hand: resume when the queue drained
                        }
                    }

                    @Override
                    public void onWritabilityChanged(Connection conn, boolean writable) {
                        if (writable) {
                            conn.resumeReading();
                        }
                    }
                })
                .start();
    }

    /** Straight-line: each connection runs this on a thread of its own (virtual on Java 21+). */
    public static TcpServer blockingEcho(Reactor reactor) throws IOException {
        return TcpServer.builder(reactor)
                .bind(new InetSocketAddress("127.0.0.1", 0))
                .handlerFactory(BlockingService.of(conn -> {
                    byte[] buf = new byte[16 * 1024];
                    for (int n; (n = conn.read(buf, 0, buf.length)) > 0; ) {
                        conn.write(buf, 0, n);       // blocks while the client does not read: backpressure
                    }
                }).readTimeout(Duration.ofMinutes(5)))  // a silent client ends with ConnectionTimeoutException
                .start();                            // returning closes the connection gracefully
    }

    /** A blocking client: connect, send a line, read the answer line. */
    public static String ask(Reactor reactor, InetSocketAddress server, String question) throws IOException {
        try (BlockingConnection conn = BlockingConnection.connect(reactor, server, Duration.ofSeconds(5))) {
            conn.readTimeout(Duration.ofSeconds(5));
            conn.write((question + "\n").getBytes(StandardCharsets.UTF_8));
            return conn.readLine(1024);
        }
    }
}
// README-END
