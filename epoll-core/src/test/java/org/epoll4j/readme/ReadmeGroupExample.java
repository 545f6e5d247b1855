package org.epoll4j.readme;

// README-BEGIN
import org.epoll4j.ReactorGroup;
import org.epoll4j.net.Connection;
import org.epoll4j.net.ConnectionHandler;
import org.epoll4j.net.Offload;
import org.epoll4j.net.TcpServerGroup;
import org.epoll4j.net.TcpServerGroup.AcceptStrategy;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;

public final class ReadmeGroupExample implements ConnectionHandler {
    private final ExecutorService pool;         // where heavy work runs, off the reactor threads

    ReadmeGroupExample(ExecutorService pool) {
        this.pool = pool;
    }

    @Override
    public void onOpen(Connection connection) {
        connection.attach(Offload.of(connection, pool, 16));   // reading pauses past 16 requests in flight
    }

    @Override
    public void onData(Connection connection, ByteBuffer data) {
        String request = StandardCharsets.UTF_8.decode(data).toString();   // data is valid during the call only
        Offload offload = (Offload) connection.attachment();
        offload.submit(() -> request.toUpperCase(), (reply, error) -> {   // back on this connection's reactor,
            if (error == null) {                                          // in request order
                connection.write(reply);
            } else {
                connection.closeWith(error);
            }
        });
    }

    /** A server on every reactor of {@code group}; the kernel spreads connections over them (SO_REUSEPORT). */
    public static TcpServerGroup start(ReactorGroup group, ExecutorService pool, int port) throws Exception {
        return TcpServerGroup.builder(group)
                .bind(new InetSocketAddress("127.0.0.1", port))
                .accept(AcceptStrategy.REUSEPORT)               // or EXCLUSIVE, or HANDOFF
                .handler(new ReadmeGroupExample(pool))          // one handler for all: it keeps no state of its own
                .start();
    }
}
// README-END
