package org.epoll4j.net;

import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.ThreadLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.epoll4j.net.NetTestKit.*;
import static org.junit.jupiter.api.Assertions.*;

/** Peer and local addresses are captured when the connection is set up and are still known in onClose. */
@Timeout(60)
@ExtendWith({FdLeakCheck.class, ThreadLeakCheck.class})
class NetAddressesTest {
    @TempDir
    Path dir;

    /** Records both addresses as onClose sees them. */
    static final class AddressesAtClose extends Tracking {
        final CompletableFuture<SocketAddress[]> atClose = new CompletableFuture<>();

        @Override
        public void onClose(Connection c, Throwable cause) {
            atClose.complete(new SocketAddress[] {c.localAddress(), c.remoteAddress()});
            super.onClose(c, cause);
        }
    }

    @Test
    void tcpAddressesAreKnownInOnCloseOnBothSides() throws Exception {
        AddressesAtClose serverSide = new AddressesAtClose();
        AddressesAtClose clientSide = new AddressesAtClose();
        try (Loop loop = Loop.start("addresses")) {
            TcpServer server = TcpServer.builder(loop.reactor).handler(serverSide).start();
            try (SocketChannel ch = connect(server.localAddress())) {
                Connection accepted = serverSide.nextOpen();
                accepted.close(); // not asked before: what onClose sees was captured at accept
                assertNull(serverSide.nextClose().cause());
                SocketAddress[] seen = serverSide.atClose.get(WAIT_SECONDS, TimeUnit.SECONDS);
                assertEquals(server.localAddress(), seen[0], "local address in onClose");
                assertEquals(ch.getLocalAddress(), seen[1], "peer address in onClose");
            }
            Connection client = TcpClient.builder(loop.reactor).remote(server.localAddress()).handler(clientSide)
                    .connect().get(WAIT_SECONDS, TimeUnit.SECONDS);
            Connection peer = serverSide.nextOpen();
            client.close(); // not asked before: captured at connect
            SocketAddress[] seen = clientSide.atClose.get(WAIT_SECONDS, TimeUnit.SECONDS);
            assertEquals(peer.remoteAddress(), seen[0], "client's local address in onClose");
            assertEquals(server.localAddress(), seen[1], "client's peer address in onClose");
            server.close();
        }
    }

    @Test
    void unixAddressesAreKnownInOnClose() throws Exception {
        AddressesAtClose serverSide = new AddressesAtClose();
        UnixDomainSocketAddress path = UnixDomainSocketAddress.of(dir.resolve("a.sock"));
        try (Loop loop = Loop.start("unix-addresses")) {
            TcpServer server = TcpServer.builder(loop.reactor).bind(path).handler(serverSide).start();
            try (SocketChannel ch = SocketChannel.open(path)) {
                Connection accepted = serverSide.nextOpen();
                accepted.close();
                SocketAddress[] seen = serverSide.atClose.get(WAIT_SECONDS, TimeUnit.SECONDS);
                assertEquals(path, seen[0]);
                assertEquals(UnixDomainSocketAddress.of(""), seen[1], "an unnamed client socket");
            }
            server.close();
        }
    }
}
