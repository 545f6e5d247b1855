package org.epoll4j.net;

import org.epoll4j.Reactor;
import org.epoll4j.TriggerMode;
import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.ThreadLeakCheck;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.epoll4j.net.NetTestKit.*;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The echo round trip over IPv4, IPv6 ([::1]) and Unix-domain sockets, server and client both epoll4j
 * ({@link TcpServer}, {@link TcpClient}) on one reactor, driven either by its own thread or by the test thread
 * calling {@link Reactor#poll}.
 */
@Timeout(60)
@ExtendWith({FdLeakCheck.class, ThreadLeakCheck.class})
class NetAddressFamiliesTest {
    private static final int PAYLOAD = 300_000;

    enum Family { IPV4, IPV6, UNIX }

    enum Driver { THREAD, POLL }

    @TempDir
    Path dir;

    static Stream<Arguments> cases() {
        Stream.Builder<Arguments> b = Stream.builder();
        for (Family f : Family.values()) {
            for (TriggerMode m : TriggerMode.values()) {
                for (Driver d : Driver.values()) {
                    b.add(Arguments.of(f, m, d));
                }
            }
        }
        return b.build();
    }

    private SocketAddress bindAddress(Family family) throws IOException {
        switch (family) {
            case IPV4:
                return new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0);
            case IPV6:
                InetSocketAddress v6 = new InetSocketAddress(InetAddress.getByName("::1"), 0);
                boolean available;
                try (ServerSocketChannel probe = ServerSocketChannel.open()) {
                    probe.bind(v6);
                    available = true;
                } catch (IOException | UnsupportedOperationException e) {
                    available = false;
                }
                assumeTrue(available, "::1 is not available here");
                return v6;
            default:
                return UnixDomainSocketAddress.of(dir.resolve("echo.sock"));
        }
    }

    /** Writes the payload in random pieces on open, checks the echo, closes when all of it came back. */
    static final class Client extends Tracking {
        final long seed;
        final Verifier verifier;
        final CompletableFuture<Long> done = new CompletableFuture<>();

        Client(long seed) {
            this.seed = seed;
            this.verifier = new Verifier(seed, "echo");
        }

        @Override
        public void onOpen(Connection c) throws Exception {
            super.onOpen(c);
            SplittableRandom r = new SplittableRandom(seed);
            int pos = 0;
            while (pos < PAYLOAD) {
                int n = Math.min(PAYLOAD - pos, 1 + r.nextInt(40_000));
                c.write(bytes(seed, pos, n));
                pos += n;
            }
        }

        @Override
        public void onData(Connection c, ByteBuffer data) {
            try {
                verifier.check(data);
            } catch (AssertionError e) {
                done.completeExceptionally(e);
                throw e;
            }
            if (verifier.position() == PAYLOAD) {
                done.complete(verifier.position());
                c.close();
            }
        }

        @Override
        public void onClose(Connection c, Throwable cause) {
            super.onClose(c, cause);
            done.completeExceptionally(new AssertionError("closed before the echo was complete", cause));
        }
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("cases")
    void echoRoundTrip(Family family, TriggerMode mode, Driver driver) throws Exception {
        SocketAddress bind = bindAddress(family);
        ConnectionConfig config = ConnectionConfig.defaults().withTrigger(mode);
        Echo echo = new Echo();
        Client client = new Client(family.ordinal() * 10L + mode.ordinal());
        if (driver == Driver.THREAD) {
            try (Loop loop = Loop.start("families-" + family)) {
                TcpServer server = TcpServer.builder(loop.reactor).bind(bind).config(config).handler(echo).start();
                roundTrip(family, server, config, echo, client, loop.reactor, null);
                assertEquals(java.util.List.of(), loop.failures);
            }
        } else {
            try (Reactor reactor = Reactor.builder().name(ThreadLeakCheck.REACTOR_PREFIX + "polled").build()) {
                TcpServer server = TcpServer.builder(reactor).bind(bind).config(config).handler(echo).start();
                roundTrip(family, server, config, echo, client, reactor, reactor);
            }
        }
        if (family == Family.UNIX) {
            assertFalse(Files.exists(((UnixDomainSocketAddress) bind).getPath()), "socket file left behind");
        }
    }

    private void roundTrip(Family family, TcpServer server, ConnectionConfig config, Echo echo, Client client,
                           Reactor reactor, Reactor polled) throws Exception {
        SocketAddress local = server.localAddress();
        if (family == Family.UNIX) {
            assertEquals(bindAddressPath(), ((UnixDomainSocketAddress) local).getPath());
            assertTrue(Files.exists(bindAddressPath()), "socket file while listening");
            assertEquals(-1, server.port());
        } else {
            assertTrue(server.port() > 0);
            InetAddress a = ((InetSocketAddress) local).getAddress();
            assertEquals(family == Family.IPV6 ? 16 : 4, a.getAddress().length, () -> "bound to " + a);
            assertTrue(a.isLoopbackAddress());
        }
        CompletableFuture<Connection> connected = TcpClient.builder(reactor).remote(local).config(config)
                .handler(client).connect();
        if (polled != null) {
            pollUntil(polled, () -> client.done.isDone() && echo.closed.size() == 1 && client.closed.size() == 1);
        }
        Connection c = connected.get(WAIT_SECONDS, TimeUnit.SECONDS);
        assertEquals(PAYLOAD, client.done.get(WAIT_SECONDS, TimeUnit.SECONDS));
        if (family != Family.UNIX) {
            assertEquals(local, c.remoteAddress());
        }
        // the client closed after the full echo: the server saw FIN, closed gracefully; both exactly once
        assertNull(client.nextClose().cause());
        assertNull(echo.nextClose().cause());
        assertEquals(PAYLOAD, c.bytesRead());
        assertEquals(PAYLOAD, c.bytesWritten());
        assertThrows(ClosedConnectionException.class, () -> c.write("late"));
        client.assertClosedOnceEach(1);
        echo.assertClosedOnceEach(1);
        server.close();
    }

    /**
     * A Unix-domain listener whose backlog is full answers a non-blocking connect with EAGAIN: a refusal, not a
     * connect in progress (it never completes). The client must fail with that error, without onOpen and without
     * keeping the socket.
     */
    @org.junit.jupiter.api.Test
    void unixConnectToFullBacklogFails() throws Exception {
        UnixDomainSocketAddress address = UnixDomainSocketAddress.of(dir.resolve("full.sock"));
        java.util.List<java.nio.channels.SocketChannel> fillers = new java.util.ArrayList<>();
        try (ServerSocketChannel listener = ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX);
             Loop loop = Loop.start("unix-backlog")) {
            listener.bind(address, 1); // never accepts
            boolean full = false;
            for (int i = 0; i < 64 && !full; i++) {
                java.nio.channels.SocketChannel ch = java.nio.channels.SocketChannel.open(
                        java.net.StandardProtocolFamily.UNIX);
                ch.configureBlocking(false);
                try {
                    ch.connect(address);
                    fillers.add(ch);
                } catch (IOException e) { // the JDK reports EAGAIN as a failure too
                    ch.close();
                    full = true;
                }
            }
            assertTrue(full, "the backlog never filled up");
            Tracking client = new Tracking();
            CompletableFuture<Connection> connected = TcpClient.builder(loop.reactor).remote(address)
                    .handler(client).connect();
            java.util.concurrent.ExecutionException e = assertThrows(java.util.concurrent.ExecutionException.class,
                    () -> connected.get(WAIT_SECONDS, TimeUnit.SECONDS));
            org.epoll4j.EpollException cause = assertInstanceOf(org.epoll4j.EpollException.class, e.getCause());
            assertEquals("EAGAIN", cause.errnoName());
            assertTrue(cause.call().startsWith("connect("), cause::getMessage);
            Closed closed = client.nextClose();
            assertSame(cause, closed.cause());
            assertTrue(client.opened.isEmpty(), "onOpen ran for a refused connect");
            loop.barrier();
            client.assertClosedOnceEach(1);
            assertEquals(java.util.List.of(), loop.failures);
        } finally {
            for (java.nio.channels.SocketChannel ch : fillers) {
                ch.close();
            }
        }
    }

    private Path bindAddressPath() {
        return dir.resolve("echo.sock");
    }

    private static void pollUntil(Reactor reactor, java.util.function.BooleanSupplier done) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        while (!done.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "poll loop did not finish in time");
            reactor.poll(Duration.ofMillis(100));
        }
    }
}
