package org.epoll4j.net;

import org.epoll4j.EpollException;
import org.epoll4j.Reactor;
import org.epoll4j.ReactorGroup;
import org.epoll4j.internal.Errno;
import org.epoll4j.testutil.FdLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.epoll4j.net.NetTestKit.Loop;
import static org.epoll4j.net.NetTestKit.WAIT_SECONDS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** DatagramEndpoint over real sockets: IPv4, IPv6, Unix-domain, batches, errors, options, multicast. */
@ExtendWith(FdLeakCheck.class)
@Timeout(60)
class DatagramEndpointTest {
    static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    /** Echoes every datagram to its sender, recording senders and batch sizes. */
    static final class Echo implements DatagramHandler {
        final List<SocketAddress> senders = new CopyOnWriteArrayList<>();
        final List<Integer> batchSizes = new CopyOnWriteArrayList<>();

        @Override
        public void onBatch(DatagramEndpoint endpoint, DatagramBatch batch) throws Exception {
            batchSizes.add(batch.size());
            DatagramHandler.super.onBatch(endpoint, batch);
        }

        @Override
        public void onDatagram(DatagramEndpoint endpoint, Datagram d) {
            senders.add(d.sender());
            endpoint.reply(d, d.data());
        }
    }

    /** Queues what arrives: payloads and senders. */
    static final class Sink implements DatagramHandler {
        final BlockingQueue<byte[]> payloads = new LinkedBlockingQueue<>();
        final BlockingQueue<SocketAddress> senders = new LinkedBlockingQueue<>();
        final BlockingQueue<EpollException> errors = new LinkedBlockingQueue<>();
        final BlockingQueue<Integer> truncated = new LinkedBlockingQueue<>();
        final BlockingQueue<Integer> segmentSizes = new LinkedBlockingQueue<>();
        final BlockingQueue<Boolean> writability = new LinkedBlockingQueue<>();
        final BlockingQueue<InetAddress> localAddresses = new LinkedBlockingQueue<>();

        @Override
        public void onDatagram(DatagramEndpoint endpoint, Datagram d) {
            byte[] b = new byte[d.length()];
            d.data().get(b);
            payloads.add(b);
            senders.add(d.sender());
            segmentSizes.add(d.segmentSize());
            InetAddress local = d.localAddress();
            if (local != null) {
                localAddresses.add(local);
            }
        }

        @Override
        public void onTruncated(DatagramEndpoint endpoint, Datagram d) {
            truncated.add(d.length());
        }

        @Override
        public void onError(DatagramEndpoint endpoint, EpollException error) {
            errors.add(error);
        }

        @Override
        public void onWritabilityChanged(DatagramEndpoint endpoint, boolean writable) {
            writability.add(writable);
        }

        byte[] take() throws InterruptedException {
            byte[] b = payloads.poll(WAIT_SECONDS, TimeUnit.SECONDS);
            assertNotNull(b, "no datagram within " + WAIT_SECONDS + " s");
            return b;
        }
    }

    static DatagramSocket client(InetAddress bind) throws Exception {
        DatagramSocket s = new DatagramSocket(new InetSocketAddress(bind, 0));
        s.setSoTimeout((int) TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
        return s;
    }

    static byte[] payload(int i, int size) {
        byte[] b = new byte[size];
        for (int k = 0; k < size; k++) {
            b[k] = (byte) (i * 31 + k);
        }
        return b;
    }

    private static void roundTrips(InetAddress address) throws Exception {
        try (Loop loop = Loop.start("dgram-echo"); DatagramSocket c = client(address)) {
            Echo echo = new Echo();
            DatagramEndpoint ep = DatagramEndpoint.open(loop.reactor, new InetSocketAddress(address, 0), echo);
            SocketAddress server = loop.call(ep::localAddress);
            for (int i = 0; i < 100; i++) {
                byte[] p = payload(i, 1 + i * 13);
                c.send(new DatagramPacket(p, p.length, server));
                DatagramPacket in = new DatagramPacket(new byte[4096], 4096);
                c.receive(in);
                assertArrayEquals(p, java.util.Arrays.copyOf(in.getData(), in.getLength()));
                assertEquals(server, in.getSocketAddress());
            }
            assertEquals(c.getLocalSocketAddress(), echo.senders.get(0));
            assertEquals(100, loop.call(ep::receivedCount));
            assertEquals(100, loop.call(ep::sentCount));
            ep.close();
        }
    }

    @Test
    void ipv4RoundTripsWithSenderAddress() throws Exception {
        roundTrips(InetAddress.getByName("127.0.0.1"));
    }

    @Test
    void ipv6RoundTripsWithSenderAddress() throws Exception {
        roundTrips(InetAddress.getByName("::1"));
    }

    /** An endpoint's direct buffers count in its reactor's direct-memory figure while it is open, and only then. */
    @Test
    void itsDirectBuffersCountInTheReactorsFigures() throws Exception {
        try (Loop loop = Loop.start("dgram-figures")) {
            long before = loop.call(() -> loop.reactor.stats().directMemoryBytes());
            DatagramEndpoint ep = DatagramEndpoint.open(loop.reactor, new InetSocketAddress(LOOPBACK, 0), new Echo());
            long held = ep.directMemoryBytes();
            assertTrue(held > 0, "an endpoint holds its batch buffers");
            assertEquals(before + held, (long) loop.call(() -> loop.reactor.stats().directMemoryBytes()));
            ep.close();
            loop.barrier();
            assertEquals(before, (long) loop.call(() -> loop.reactor.stats().directMemoryBytes()));
        }
    }

    @Test
    void packedIpv4SenderNeedsNoObject() throws Exception {
        try (Loop loop = Loop.start("dgram-packed"); DatagramSocket c = client(LOOPBACK)) {
            CompletableFuture<long[]> seen = new CompletableFuture<>();
            DatagramEndpoint ep = DatagramEndpoint.open(loop.reactor, new InetSocketAddress(LOOPBACK, 0),
                    (e, d) -> seen.complete(new long[] {d.senderInet4(), d.senderPort()}));
            c.send(new DatagramPacket(new byte[3], 3, loop.call(ep::localAddress)));
            long[] s = seen.get(WAIT_SECONDS, TimeUnit.SECONDS);
            assertEquals((0x7F000001L << 16) | c.getLocalPort(), s[0]);
            assertEquals(c.getLocalPort(), s[1]);
            ep.close();
        }
    }

    @Test
    void unixDomainDatagramsKnowTheirSender(@TempDir Path dir) throws Exception {
        try (Loop loop = Loop.start("dgram-unix")) {
            UnixDomainSocketAddress serverPath = UnixDomainSocketAddress.of(dir.resolve("server.sock"));
            UnixDomainSocketAddress clientPath = UnixDomainSocketAddress.of(dir.resolve("client.sock"));
            Echo echo = new Echo();
            Sink sink = new Sink();
            DatagramEndpoint server = DatagramEndpoint.open(loop.reactor, serverPath, echo);
            DatagramEndpoint client = DatagramEndpoint.open(loop.reactor, clientPath, sink);
            for (int i = 0; i < 20; i++) {
                byte[] p = payload(i, 10 + i);
                loop.call(() -> client.send(ByteBuffer.wrap(p), serverPath));
                assertArrayEquals(p, sink.take());
                assertEquals(serverPath, sink.senders.take());
            }
            assertEquals(clientPath, echo.senders.get(0));
            server.close();
            client.close();
        }
    }

    @Test
    void batchesNeverExceedTheBatchSize() throws Exception {
        try (Loop loop = Loop.start("dgram-batch"); DatagramSocket c = client(LOOPBACK)) {
            Echo echo = new Echo();
            DatagramConfig config = DatagramConfig.builder().batchSize(4)
                    .sockOpts(SockOpts.empty().with(SockOpt.SO_RCVBUF, 1 << 20)).build();
            DatagramEndpoint ep = DatagramEndpoint.open(loop.reactor, new InetSocketAddress(LOOPBACK, 0), config, echo);
            SocketAddress server = loop.call(ep::localAddress);
            // park the loop so the datagrams pile up and arrive in full batches
            CountDownLatch parked = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            loop.reactor.execute(() -> {
                parked.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertTrue(parked.await(WAIT_SECONDS, TimeUnit.SECONDS));
            for (int i = 0; i < 50; i++) {
                c.send(new DatagramPacket(payload(i, 64), 64, server));
            }
            release.countDown();
            List<Integer> firstBytes = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                DatagramPacket in = new DatagramPacket(new byte[128], 128);
                c.receive(in);
                assertEquals(64, in.getLength());
                firstBytes.add(in.getData()[1] - 1);
            }
            for (int i = 0; i < 50; i++) {
                assertEquals((byte) (i * 31), (byte) (int) firstBytes.get(i), "datagram " + i + " out of order");
            }
            assertTrue(echo.batchSizes.stream().allMatch(n -> n <= 4), echo.batchSizes::toString);
            assertTrue(echo.batchSizes.contains(4), "no full batch: " + echo.batchSizes);
            ep.close();
        }
    }

    @Test
    void truncatedDatagramsAreReportedNeverDeliveredShort() throws Exception {
        try (Loop loop = Loop.start("dgram-trunc"); DatagramSocket c = client(LOOPBACK)) {
            Sink sink = new Sink();
            DatagramConfig config = DatagramConfig.builder().maxDatagramSize(100).build();
            DatagramEndpoint ep = DatagramEndpoint.open(loop.reactor, new InetSocketAddress(LOOPBACK, 0), config, sink);
            SocketAddress server = loop.call(ep::localAddress);
            c.send(new DatagramPacket(payload(1, 200), 200, server));
            c.send(new DatagramPacket(payload(2, 100), 100, server));
            assertArrayEquals(payload(2, 100), sink.take());
            assertEquals(100, sink.truncated.poll(WAIT_SECONDS, TimeUnit.SECONDS));
            assertTrue(sink.payloads.isEmpty());
            assertEquals(1, loop.call(ep::truncatedCount));
            ep.close();
        }
    }

    @Test
    void connectionRefusedIsReportedAndTheEndpointStaysOpen() throws Exception {
        try (Loop loop = Loop.start("dgram-refused"); DatagramSocket c = client(LOOPBACK)) {
            int deadPort;
            try (DatagramSocket gone = new DatagramSocket(new InetSocketAddress(LOOPBACK, 0))) {
                deadPort = gone.getLocalPort();
            }
            Sink sink = new Sink();
            DatagramEndpoint ep = DatagramEndpoint.open(loop.reactor, new InetSocketAddress(LOOPBACK, 0), sink);
            loop.call(() -> {
                ep.connect(new InetSocketAddress(LOOPBACK, deadPort));
                return ep.send(ByteBuffer.wrap(new byte[] {1, 2, 3}));
            });
            EpollException e = sink.errors.poll(WAIT_SECONDS, TimeUnit.SECONDS);
            assertNotNull(e, "no ECONNREFUSED reported");
            assertEquals(Errno.ECONNREFUSED, e.errno(), e.getMessage());
            assertTrue(ep.isOpen());
            // still usable: reconnect to a live peer and talk
            loop.call(() -> {
                ep.connect(c.getLocalSocketAddress());
                return ep.send(ByteBuffer.wrap(new byte[] {4, 5}));
            });
            DatagramPacket in = new DatagramPacket(new byte[16], 16);
            c.receive(in);
            assertEquals(2, in.getLength());
            c.send(new DatagramPacket(new byte[] {9}, 1, loop.call(ep::localAddress)));
            assertArrayEquals(new byte[] {9}, sink.take());
            ep.close();
        }
    }

    @Test
    void aFullSendQueueRaisesTheWatermarkAndDrainsOnEpollout(@TempDir Path dir) throws Exception {
        // A Unix-domain receiver that does not read blocks its senders (UDP on loopback would drop instead).
        UnixDomainSocketAddress slowPath = UnixDomainSocketAddress.of(dir.resolve("slow.sock"));
        Reactor idle = Reactor.open(); // not running: its endpoint reads nothing until polled
        try (Loop loop = Loop.start("dgram-backpressure")) {
            Sink slow = new Sink();
            DatagramEndpoint receiver = DatagramEndpoint.open(idle, slowPath, slow);
            Sink sink = new Sink();
            DatagramConfig config = DatagramConfig.builder().writeWatermarks(8 * 1024, 32 * 1024)
                    .sendQueue(65_535, 256).build();
            DatagramEndpoint sender = DatagramEndpoint.open(loop.reactor,
                    UnixDomainSocketAddress.of(dir.resolve("fast.sock")), config, sink);
            int accepted = loop.call(() -> {
                int n = 0;
                for (int i = 0; i < 2000; i++) {
                    ByteBuffer p = ByteBuffer.allocate(1000);
                    p.putInt(0, i);
                    if (sender.send(p, slowPath)) {
                        n++;
                    }
                }
                return n;
            });
            assertEquals(Boolean.FALSE, sink.writability.poll(WAIT_SECONDS, TimeUnit.SECONDS));
            assertTrue(accepted < 2000, "the queue never filled");
            assertTrue(loop.call(sender::droppedCount) > 0);
            assertTrue(loop.call(sender::queuedDatagrams) > 0);
            // now let the receiver read: the sender gets EPOLLOUT, drains, turns writable
            Thread t = idle.start();
            assertEquals(Boolean.TRUE, sink.writability.poll(WAIT_SECONDS, TimeUnit.SECONDS));
            int last = -1;
            for (int i = 0; i < accepted; i++) {
                byte[] b = slow.take();
                int seq = ByteBuffer.wrap(b).getInt();
                assertTrue(seq > last, "out of order: " + seq + " after " + last);
                last = seq;
            }
            assertEquals(0, loop.call(sender::queuedDatagrams));
            sender.close();
            receiver.close();
            idle.close();
            t.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
        } finally {
            idle.close();
        }
    }

    @Test
    void multicastOnLoopback() throws Exception {
        NetworkInterface lo = NetworkInterface.getByName("lo");
        assumeTrue(lo != null, "no lo interface");
        InetAddress group = InetAddress.getByName("239.255.42.99");
        try (Loop loop = Loop.start("dgram-mcast")) {
            Sink sink = new Sink();
            DatagramEndpoint member = DatagramEndpoint.open(loop.reactor, new InetSocketAddress("0.0.0.0", 0), sink);
            int port = ((InetSocketAddress) loop.call(member::localAddress)).getPort();
            loop.call(() -> {
                member.joinGroup(group, lo);
                return null;
            });
            DatagramConfig senderConfig = DatagramConfig.builder()
                    .multicastInterface(InetAddress.getByName("127.0.0.1")).multicastLoop(true).multicastTtl(0).build();
            DatagramEndpoint sender = DatagramEndpoint.open(loop.reactor, new InetSocketAddress("127.0.0.1", 0),
                    senderConfig, new Sink());
            InetSocketAddress to = new InetSocketAddress(group, port);
            loop.call(() -> sender.send(ByteBuffer.wrap("hello group".getBytes(StandardCharsets.US_ASCII)), to));
            assertEquals("hello group", new String(sink.take(), StandardCharsets.US_ASCII));
            loop.call(() -> {
                member.leaveGroup(group, lo);
                return null;
            });
            EpollException notMember = (EpollException) cause(() -> loop.call(() -> {
                member.leaveGroup(group, lo);
                return null;
            }));
            assertEquals("EADDRNOTAVAIL", notMember.errnoName(), notMember.getMessage());
            member.close();
            sender.close();
        }
    }

    @Test
    void broadcastNeedsSoBroadcast() throws Exception {
        try (Loop loop = Loop.start("dgram-bcast")) {
            Sink receiverSink = new Sink();
            DatagramEndpoint receiver = DatagramEndpoint.open(loop.reactor, new InetSocketAddress("0.0.0.0", 0),
                    receiverSink);
            int port = ((InetSocketAddress) loop.call(receiver::localAddress)).getPort();
            InetSocketAddress bcast = new InetSocketAddress("127.255.255.255", port);
            Sink refused = new Sink();
            DatagramEndpoint plain = DatagramEndpoint.open(loop.reactor, new InetSocketAddress("127.0.0.1", 0), refused);
            loop.call(() -> plain.send(ByteBuffer.wrap(new byte[] {1}), bcast));
            EpollException e = refused.errors.poll(WAIT_SECONDS, TimeUnit.SECONDS);
            assertNotNull(e);
            assertEquals(Errno.EACCES, e.errno(), e.getMessage());
            Sink allowedSink = new Sink();
            DatagramEndpoint allowed = DatagramEndpoint.open(loop.reactor, new InetSocketAddress("127.0.0.1", 0),
                    DatagramConfig.builder().broadcast(true).build(), allowedSink);
            loop.call(() -> allowed.send(ByteBuffer.wrap(new byte[] {2}), bcast));
            assertArrayEquals(new byte[] {2}, receiverSink.take());
            assertTrue(allowedSink.errors.isEmpty(), () -> allowedSink.errors.toString());
            receiver.close();
            plain.close();
            allowed.close();
        }
    }

    private static InetSocketAddress replySource(boolean packetInfo) throws Exception {
        try (Loop loop = Loop.start("dgram-pktinfo"); DatagramSocket c = client(InetAddress.getByName("127.0.0.1"))) {
            Echo echo = new Echo();
            DatagramEndpoint ep = DatagramEndpoint.open(loop.reactor, new InetSocketAddress("0.0.0.0", 0),
                    DatagramConfig.builder().packetInfo(packetInfo).build(), echo);
            int port = ((InetSocketAddress) loop.call(ep::localAddress)).getPort();
            c.send(new DatagramPacket(new byte[] {7}, 1, new InetSocketAddress("127.0.0.2", port)));
            DatagramPacket in = new DatagramPacket(new byte[16], 16);
            c.receive(in);
            ep.close();
            return (InetSocketAddress) in.getSocketAddress();
        }
    }

    @Test
    void packetInfoAnswersFromTheAddressAskedOn() throws Exception {
        InetSocketAddress from = replySource(true);
        assertEquals(InetAddress.getByName("127.0.0.2"), from.getAddress());
        // and the test can fail: without packet info the kernel picks the source by route (127.0.0.1)
        assertEquals(InetAddress.getByName("127.0.0.1"), replySource(false).getAddress());
    }

    @Test
    void packetInfoShowsTheLocalAddressV4AndV6() throws Exception {
        try (Loop loop = Loop.start("dgram-local")) {
            Sink sink = new Sink();
            DatagramEndpoint ep = DatagramEndpoint.open(loop.reactor, new InetSocketAddress("::", 0),
                    DatagramConfig.builder().packetInfo(true).build(), sink);
            int port = ((InetSocketAddress) loop.call(ep::localAddress)).getPort();
            try (DatagramSocket c6 = client(InetAddress.getByName("::1"));
                 DatagramSocket c4 = client(InetAddress.getByName("127.0.0.1"))) {
                c6.send(new DatagramPacket(new byte[] {1}, 1, new InetSocketAddress("::1", port)));
                sink.take();
                assertEquals(InetAddress.getByName("::1"), sink.localAddresses.poll(WAIT_SECONDS, TimeUnit.SECONDS));
                c4.send(new DatagramPacket(new byte[] {1}, 1, new InetSocketAddress("127.0.0.3", port)));
                sink.take();
                assertEquals(InetAddress.getByName("127.0.0.3"), sink.localAddresses.poll(WAIT_SECONDS, TimeUnit.SECONDS));
            }
            ep.close();
        }
    }

    @Test
    void optionsAreApplied() throws Exception {
        try (Loop loop = Loop.start("dgram-opts")) {
            DatagramConfig config = DatagramConfig.builder().tos(0x10).v6Only(true).broadcast(true)
                    .sockOpts(SockOpts.empty().with(SockOpt.SO_RCVBUF, 100_000).with(SockOpt.SO_REUSEPORT, true))
                    .build();
            DatagramEndpoint ep = DatagramEndpoint.open(loop.reactor, new InetSocketAddress("::1", 0), config,
                    (e, d) -> { });
            int fd = ep.fd();
            assertEquals(1, org.epoll4j.internal.Sockets.getIntOption(fd, 41, 26, "IPV6_V6ONLY"));
            assertEquals(0x10, org.epoll4j.internal.Sockets.getIntOption(fd, 41, 67, "IPV6_TCLASS"));
            assertEquals(1, org.epoll4j.internal.Sockets.getIntOption(fd, 1, 6, "SO_BROADCAST"));
            assertTrue(SockOpts.read(fd, SockOpt.SO_RCVBUF) >= 100_000);
            assertTrue(SockOpts.read(fd, SockOpt.SO_REUSEPORT));
            ep.close();
        }
    }

    @Test
    void oneEndpointPerReactorWithReusePort() throws Exception {
        ReactorGroup group = ReactorGroup.open(2);
        try (DatagramSocket c = client(LOOPBACK)) {
            List<DatagramEndpoint> eps = DatagramEndpoint.openOnEach(group, new InetSocketAddress(LOOPBACK, 0),
                    DatagramConfig.defaults(), Echo::new);
            assertEquals(2, eps.size());
            SocketAddress a = eps.get(0).reactor().isRunning() ? callOn(eps.get(0)) : eps.get(0).localAddress();
            assertEquals(a, callOn(eps.get(1)));
            List<DatagramSocket> clients = new ArrayList<>();
            try {
                for (int i = 0; i < 8; i++) {
                    DatagramSocket s = client(LOOPBACK);
                    clients.add(s);
                    s.send(new DatagramPacket(payload(i, 32), 32, a));
                }
                for (int i = 0; i < 8; i++) {
                    DatagramPacket in = new DatagramPacket(new byte[64], 64);
                    clients.get(i).receive(in);
                    assertArrayEquals(payload(i, 32), java.util.Arrays.copyOf(in.getData(), in.getLength()));
                }
            } finally {
                clients.forEach(DatagramSocket::close);
            }
            eps.forEach(DatagramEndpoint::close);
        } finally {
            group.close();
            assertTrue(group.awaitTermination(java.time.Duration.ofSeconds(WAIT_SECONDS)));
        }
    }

    @Test
    void sendsFromAnotherThreadAndAGracefulGroupShutdownCloseCleanly() throws Exception {
        ReactorGroup group = ReactorGroup.open(2);
        try (DatagramSocket c = client(LOOPBACK)) {
            List<Throwable> closed = new CopyOnWriteArrayList<>();
            CountDownLatch allClosed = new CountDownLatch(2);
            List<DatagramEndpoint> eps = DatagramEndpoint.openOnEach(group, new InetSocketAddress(LOOPBACK, 0),
                    DatagramConfig.defaults(), () -> new DatagramHandler() {
                        @Override
                        public void onDatagram(DatagramEndpoint endpoint, Datagram datagram) {
                        }

                        @Override
                        public void onClosed(DatagramEndpoint endpoint, Throwable cause) {
                            if (cause != null) {
                                closed.add(cause);
                            }
                            allClosed.countDown();
                        }
                    });
            // the test thread is not the reactor's: the payload is copied and handed over
            byte[] p = payload(5, 99);
            ByteBuffer data = ByteBuffer.wrap(p);
            assertTrue(eps.get(1).send(data, c.getLocalSocketAddress()));
            assertFalse(data.hasRemaining());
            DatagramPacket in = new DatagramPacket(new byte[128], 128);
            c.receive(in);
            assertArrayEquals(p, java.util.Arrays.copyOf(in.getData(), in.getLength()));
            group.shutdownGracefully(java.time.Duration.ofMillis(50), java.time.Duration.ofSeconds(WAIT_SECONDS))
                    .get(WAIT_SECONDS, TimeUnit.SECONDS);
            assertTrue(allClosed.await(WAIT_SECONDS, TimeUnit.SECONDS));
            assertTrue(closed.isEmpty(), closed::toString);
            assertFalse(eps.get(0).isOpen());
        } finally {
            group.close();
            assertTrue(group.awaitTermination(java.time.Duration.ofSeconds(WAIT_SECONDS)));
        }
    }

    private static SocketAddress callOn(DatagramEndpoint ep) throws Exception {
        CompletableFuture<SocketAddress> f = new CompletableFuture<>();
        ep.reactor().execute(() -> {
            try {
                f.complete(ep.localAddress());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return f.get(WAIT_SECONDS, TimeUnit.SECONDS);
    }

    @Test
    void badInputGetsClearErrors() throws Exception {
        try (Loop loop = Loop.start("dgram-bad")) {
            DatagramEndpoint ep = DatagramEndpoint.open(loop.reactor, new InetSocketAddress("127.0.0.1", 0), (e, d) -> { });
            IllegalStateException notConnected = (IllegalStateException) cause(
                    () -> loop.call(() -> ep.send(ByteBuffer.allocate(1))));
            assertTrue(notConnected.getMessage().contains("connected"), notConnected.getMessage());
            IllegalArgumentException v6 = (IllegalArgumentException) cause(
                    () -> loop.call(() -> ep.send(ByteBuffer.allocate(1), new InetSocketAddress("::1", 9))));
            assertTrue(v6.getMessage().contains("AF_INET"), v6.getMessage());
            org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> DatagramConfig.builder().batchSize(0));
            EpollException inUse = org.junit.jupiter.api.Assertions.assertThrows(EpollException.class,
                    () -> DatagramEndpoint.open(loop.reactor, loop.call(ep::localAddress), (e, d) -> { }));
            assertEquals("EADDRINUSE", inUse.errnoName());
            ep.close();
        }
    }

    @Test
    void closeCallsOnClosedOnceAndFreesTheSocket() throws Exception {
        try (Loop loop = Loop.start("dgram-close")) {
            CompletableFuture<Throwable> closed = new CompletableFuture<>();
            List<Throwable> calls = Collections.synchronizedList(new ArrayList<>());
            DatagramEndpoint ep = DatagramEndpoint.open(loop.reactor, new InetSocketAddress("127.0.0.1", 0),
                    new DatagramHandler() {
                        @Override
                        public void onDatagram(DatagramEndpoint endpoint, Datagram datagram) {
                        }

                        @Override
                        public void onClosed(DatagramEndpoint endpoint, Throwable cause) {
                            calls.add(cause);
                            closed.complete(cause);
                        }
                    });
            ep.close();
            ep.close();
            closed.get(WAIT_SECONDS, TimeUnit.SECONDS);
            loop.barrier();
            assertEquals(1, calls.size());
            assertFalse(ep.isOpen());
        }
    }

    /** What a call on the loop threw there (Loop.call wraps it in an ExecutionException). */
    static Throwable cause(org.junit.jupiter.api.function.Executable call) {
        return org.junit.jupiter.api.Assertions.assertThrows(java.util.concurrent.ExecutionException.class, call)
                .getCause();
    }

    static boolean isV6(SocketAddress a) {
        return a instanceof InetSocketAddress i && i.getAddress() instanceof Inet6Address;
    }
}
