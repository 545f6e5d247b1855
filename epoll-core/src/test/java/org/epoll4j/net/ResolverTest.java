package org.epoll4j.net;

import org.epoll4j.Reactor;
import org.epoll4j.testutil.FdLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Resolution off the loop with a cache, and TcpClient's happy-eyeballs race over real sockets. */
@ExtendWith(FdLeakCheck.class)
@org.junit.jupiter.api.Timeout(60)
class ResolverTest {
    private static InetAddress ip(String literal) throws UnknownHostException {
        return InetAddress.getByName(literal);
    }

    @Test
    void answersAreCachedFailuresBrieflyAndQueriesShared() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        CountDownLatch release = new CountDownLatch(1);
        Resolver r = Resolver.builder().lookup(host -> {
            calls.incrementAndGet();
            try {
                release.await(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                throw new UnknownHostException("interrupted");
            }
            if (host.equals("bad.example")) {
                throw new UnknownHostException(host);
            }
            return new InetAddress[]{ip("10.1.2.3")};
        }).ttl(Duration.ofSeconds(60), Duration.ZERO).build();
        CompletableFuture<List<InetAddress>> a = r.resolve("svc.example");
        CompletableFuture<List<InetAddress>> b = r.resolve("svc.example"); // while the first is in flight
        release.countDown();
        assertEquals(List.of(ip("10.1.2.3")), a.get(20, TimeUnit.SECONDS));
        assertEquals(a.get(), b.get(20, TimeUnit.SECONDS));
        assertEquals(List.of(ip("10.1.2.3")), r.resolve("svc.example").get(20, TimeUnit.SECONDS));
        assertEquals(1, calls.get(), "one query for three asks");

        ExecutionException e = assertThrows(ExecutionException.class, () -> r.resolve("bad.example").get(20, TimeUnit.SECONDS));
        assertInstanceOf(UnknownHostException.class, e.getCause());
        assertThrows(ExecutionException.class, () -> r.resolve("bad.example").get(20, TimeUnit.SECONDS));
        assertEquals(3, calls.get(), "a failure cached for 0 s is asked again");

        assertEquals(List.of(ip("::1")), r.resolve("::1").get(), "a literal is never looked up");
        assertEquals(List.of(ip("127.0.0.1")), r.resolve("127.0.0.1").get());
        assertEquals(3, calls.get());
    }

    @Test
    void answersArriveOnTheReactorThatAsked() throws Exception {
        try (Reactor reactor = Reactor.open()) {
            reactor.start();
            CompletableFuture<Boolean> onLoop = new CompletableFuture<>();
            // the loop is held until the callback is attached: else an answer from the cache can complete the future
            // on the loop before whenComplete is called, which then runs the callback on this thread
            CountDownLatch attached = new CountDownLatch(1);
            reactor.execute(() -> {
                try {
                    attached.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            Resolver.system().resolve("localhost", reactor).whenComplete((a, e) -> onLoop.complete(reactor.inEventLoop()));
            attached.countDown();
            assertTrue(onLoop.get(20, TimeUnit.SECONDS));
            assertTrue(Resolver.system().resolve("localhost").get(20, TimeUnit.SECONDS).stream()
                    .anyMatch(InetAddress::isLoopbackAddress));
        }
    }

    @Test
    void familiesInterleaveStartingWithTheFirstAnswersFamily() throws Exception {
        List<InetAddress> in = List.of(ip("::1"), ip("::2"), ip("::3"), ip("10.0.0.1"), ip("10.0.0.2"));
        assertEquals(List.of(ip("::1"), ip("10.0.0.1"), ip("::2"), ip("10.0.0.2"), ip("::3")),
                Resolver.interleave(in));
        assertEquals(List.of(ip("10.0.0.1"), ip("::1")), Resolver.interleave(List.of(ip("10.0.0.1"), ip("::1"))));
    }

    /** A handler that records which callbacks it saw. */
    static final class Recorder implements ConnectionHandler {
        final List<String> seen = new ArrayList<>();
        final CompletableFuture<Connection> opened = new CompletableFuture<>();

        @Override
        public void onOpen(Connection c) {
            seen.add("open " + c.remoteAddress());
            opened.complete(c);
        }

        @Override
        public void onData(Connection c, ByteBuffer data) {
        }

        @Override
        public void onClose(Connection c, Throwable cause) {
            seen.add("close");
        }
    }

    @Test
    void aHangingFirstAddressLosesToTheSecondAfterTheAttemptDelay() throws Exception {
        // A listener whose accept queue is full drops SYNs: a connect to it hangs, as to a dead address.
        try (ServerSocket full = new ServerSocket(0, 1, ip("127.0.0.1"));
             ServerSocket good = new ServerSocket(0, 50, ip("127.0.0.1"))) {
            List<Socket> fillers = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    Socket s = new Socket();
                    try {
                        s.connect(full.getLocalSocketAddress(), 300);
                        fillers.add(s);
                    } catch (java.io.IOException timedOut) {
                        s.close();
                        break; // the queue is full
                    }
                }
                int fullPort = full.getLocalPort();
                int goodPort = good.getLocalPort();
                assertTrue(fullPort != goodPort);
                // The race uses one port: reach the good listener through a second loopback address on its port.
                try (ServerSocket goodOn2 = new ServerSocket(fullPort, 50, ip("127.0.0.2"))) {
                    Resolver r = Resolver.builder().lookup(h -> new InetAddress[]{ip("127.0.0.1"), ip("127.0.0.2")})
                            .build();
                    Recorder rec = new Recorder();
                    try (Reactor reactor = Reactor.open()) {
                        reactor.start();
                        Connection c = TcpClient.builder(reactor).remote("race.example", fullPort).resolver(r)
                                .attemptDelay(Duration.ofMillis(50)).handler(rec).connect().get(20, TimeUnit.SECONDS);
                        assertEquals(new InetSocketAddress(ip("127.0.0.2"), fullPort), c.remoteAddress());
                        assertEquals(1, rec.seen.size(), rec.seen.toString());
                        goodOn2.accept().close();
                        reactor.close();
                        assertTrue(reactor.awaitTermination(Duration.ofSeconds(20)));
                    }
                    assertEquals(List.of("open " + new InetSocketAddress(ip("127.0.0.2"), fullPort), "close"), rec.seen,
                            "the handler saw the winner only");
                }
            } finally {
                for (Socket s : fillers) {
                    s.close();
                }
            }
        }
    }

    @Test
    void aRefusedAddressStartsTheNextAtOnceAndAllRefusedFailsWithEach() throws Exception {
        int closedPort;
        try (ServerSocket probe = new ServerSocket(0, 1, ip("127.0.0.1"))) {
            closedPort = probe.getLocalPort();
        }
        try (ServerSocket on2 = new ServerSocket(closedPort, 50, ip("127.0.0.2"))) {
            Resolver r = Resolver.builder().lookup(h -> new InetAddress[]{ip("127.0.0.1"), ip("127.0.0.2")}).build();
            try (Reactor reactor = Reactor.open()) {
                reactor.start();
                // a 2 s attempt delay: only the refusal can have started the second attempt this soon
                CompletableFuture<Connection> f = TcpClient.builder(reactor).remote("refused.example", closedPort)
                        .resolver(r).attemptDelay(Duration.ofSeconds(2)).handler(new Recorder()).connect();
                Connection c = f.get(1500, TimeUnit.MILLISECONDS);
                assertEquals(ip("127.0.0.2"), ((InetSocketAddress) c.remoteAddress()).getAddress());
                on2.accept().close();
            }
        }
        Resolver none = Resolver.builder().lookup(h -> new InetAddress[]{ip("127.0.0.1"), ip("127.0.0.3")}).build();
        try (Reactor reactor = Reactor.open()) {
            reactor.start();
            AtomicBoolean opened = new AtomicBoolean();
            ExecutionException e = assertThrows(ExecutionException.class, () -> TcpClient.builder(reactor)
                    .remote("nowhere.example", closedPort).resolver(none).handler((c, d) -> opened.set(true)).connect()
                    .get(20, TimeUnit.SECONDS));
            assertInstanceOf(java.net.ConnectException.class, e.getCause());
            assertEquals(2, e.getCause().getSuppressed().length, "each attempt's failure is kept");
            assertFalse(opened.get());
        }
    }

    @Test
    void anUnknownHostFailsTheConnect() throws Exception {
        Resolver r = Resolver.builder().lookup(h -> {
            throw new UnknownHostException(h + ": no such host");
        }).build();
        try (Reactor reactor = Reactor.open()) {
            reactor.start();
            ExecutionException e = assertThrows(ExecutionException.class, () -> TcpClient.builder(reactor)
                    .remote("missing.example", 80).resolver(r).handler((c, d) -> { }).connect()
                    .get(20, TimeUnit.SECONDS));
            assertInstanceOf(UnknownHostException.class, e.getCause());
            assertThrows(IllegalArgumentException.class, () -> TcpClient.builder(reactor).remote("x", 0));
        }
    }
}
