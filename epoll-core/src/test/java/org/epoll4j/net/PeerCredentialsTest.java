package org.epoll4j.net;

import org.epoll4j.EpollException;
import org.epoll4j.Reactor;
import org.epoll4j.testutil.FdLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** SO_PEERCRED on a real Unix-domain connection; a TCP connection has none and says so. */
@ExtendWith(FdLeakCheck.class)
@org.junit.jupiter.api.Timeout(30)
class PeerCredentialsTest {

    private static CompletableFuture<Object> serveCredentials(Reactor reactor, java.net.SocketAddress bind,
                                                              CompletableFuture<java.net.SocketAddress> bound)
            throws Exception {
        CompletableFuture<Object> seen = new CompletableFuture<>();
        reactor.execute(() -> {
            try {
                TcpServer server = TcpServer.builder(reactor).bind(bind).handler(new ConnectionHandler() {
                    @Override
                    public void onOpen(Connection c) {
                        try {
                            seen.complete(PeerCredentials.of(c));
                        } catch (EpollException e) {
                            seen.complete(e);
                        }
                        c.close();
                    }

                    @Override
                    public void onData(Connection c, java.nio.ByteBuffer data) {
                    }
                }).start();
                bound.complete(server.localAddress());
            } catch (Exception e) {
                bound.completeExceptionally(e);
            }
        });
        return seen;
    }

    @Test
    void aUnixPeerIsThisProcess(@TempDir Path dir) throws Exception {
        try (Reactor reactor = Reactor.open()) {
            reactor.start();
            CompletableFuture<java.net.SocketAddress> bound = new CompletableFuture<>();
            CompletableFuture<Object> seen = serveCredentials(reactor,
                    UnixDomainSocketAddress.of(dir.resolve("cred.sock")), bound);
            try (SocketChannel client = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                client.connect(bound.get(20, TimeUnit.SECONDS));
                PeerCredentials c = assertInstanceOf(PeerCredentials.class, seen.get(20, TimeUnit.SECONDS));
                assertEquals(ProcessHandle.current().pid(), c.pid());
                int uid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
                int gid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:gid");
                assertEquals(uid, c.uid());
                assertEquals(gid, c.gid());
            }
            reactor.close();
            assertTrue(reactor.awaitTermination(Duration.ofSeconds(20)));
        }
    }

    @Test
    void aTcpPeerHasNoCredentials() throws Exception {
        try (Reactor reactor = Reactor.open()) {
            reactor.start();
            CompletableFuture<java.net.SocketAddress> bound = new CompletableFuture<>();
            CompletableFuture<Object> seen = serveCredentials(reactor,
                    new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), bound);
            try (SocketChannel client = SocketChannel.open(bound.get(20, TimeUnit.SECONDS))) {
                EpollException e = assertInstanceOf(EpollException.class, seen.get(20, TimeUnit.SECONDS));
                assertTrue(e.getMessage().contains("not a Unix-domain connection"), e.getMessage());
            }
            reactor.close();
            assertTrue(reactor.awaitTermination(Duration.ofSeconds(20)));
        }
    }
}
