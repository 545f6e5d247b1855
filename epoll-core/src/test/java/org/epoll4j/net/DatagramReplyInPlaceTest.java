package org.epoll4j.net;

import org.epoll4j.internal.Errno;
import org.epoll4j.internal.LibC;
import org.epoll4j.internal.NativeMemory;
import org.epoll4j.internal.Sockets;
import org.epoll4j.testutil.FdLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntUnaryOperator;

import static org.epoll4j.net.DatagramEndpointTest.Sink;
import static org.epoll4j.net.DatagramEndpointTest.client;
import static org.epoll4j.net.NetTestKit.Loop;
import static org.epoll4j.net.NetTestKit.WAIT_SECONDS;
import static org.epoll4j.testutil.Pbt.qt;
import static org.epoll4j.testutil.Pbt.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

/**
 * {@link DatagramEndpoint#reply(Datagram)}: replies sent straight from the receive slots arrive byte-exact and in
 * order with ordinary sends, also when the kernel takes only part of a batch and the slots are reused before the rest
 * leaves (the rest must have been copied out first); GRO buffers go back as their datagrams; other threads copy.
 */
@ExtendWith(FdLeakCheck.class)
@Timeout(120)
class DatagramReplyInPlaceTest {
    private static final InetAddress V4 = loopback("127.0.0.1");
    /** Plans: what the handler sends besides the reply in place. */
    private static final int ONLY_REPLY = 0;
    private static final int SEND_BEFORE = 1;
    private static final int SEND_AFTER = 2;

    private static InetAddress loopback(String name) {
        try {
            return InetAddress.getByName(name);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] body(int seq, int size) {
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) {
            b[i] = (byte) (seq * 29 + i * 7 + (i >> 8));
        }
        return b;
    }

    /** An ordinary send's payload: 9 bytes that no body of the same sequence number equals. */
    static byte[] marker(int seq) {
        return ByteBuffer.allocate(9).put((byte) 0x7E).putInt(seq).putInt(~seq).array();
    }

    /** What the peer must receive, in order, for these sizes and plans. */
    static List<byte[]> expected(List<Integer> sizes, IntUnaryOperator plan) {
        List<byte[]> all = new ArrayList<>();
        for (int s = 0; s < sizes.size(); s++) {
            int p = plan.applyAsInt(s);
            if (p == SEND_BEFORE) {
                all.add(marker(s));
            }
            all.add(body(s, sizes.get(s)));
            if (p == SEND_AFTER) {
                all.add(marker(s));
            }
        }
        return all;
    }

    /**
     * Replies in place to every datagram, with an ordinary send before or after it as the plan says; counts down
     * {@code received} per datagram and records its largest batch and anything refused.
     */
    static final class Mixer implements DatagramHandler {
        final IntUnaryOperator plan;
        final CountDownLatch received;
        final List<String> problems = new CopyOnWriteArrayList<>();
        volatile int largestBatch;
        volatile int largestSegment;
        int seq;

        Mixer(IntUnaryOperator plan, int expected) {
            this.plan = plan;
            this.received = new CountDownLatch(expected);
        }

        @Override
        public void onBatch(DatagramEndpoint endpoint, DatagramBatch batch) throws Exception {
            largestBatch = Math.max(largestBatch, batch.size());
            DatagramHandler.super.onBatch(endpoint, batch);
        }

        @Override
        public void onDatagram(DatagramEndpoint endpoint, Datagram d) {
            int s = seq++;
            int p = plan.applyAsInt(s);
            largestSegment = Math.max(largestSegment, d.segmentSize());
            SocketAddress to = p == ONLY_REPLY ? null : d.sender();
            if (p == SEND_BEFORE && !endpoint.send(ByteBuffer.wrap(marker(s)), to)) {
                problems.add("send before " + s + " refused");
            }
            if (!endpoint.reply(d)) {
                problems.add("reply " + s + " refused");
            }
            if (p == SEND_AFTER && !endpoint.send(ByteBuffer.wrap(marker(s)), to)) {
                problems.add("send after " + s + " refused");
            }
            received.countDown();
        }

        void awaitAll() throws InterruptedException {
            assertTrue(received.await(WAIT_SECONDS, TimeUnit.SECONDS), "the endpoint did not receive everything: "
                    + received.getCount() + " missing");
        }
    }

    private static DatagramConfig udpConfig(int batch) {
        return DatagramConfig.builder().batchSize(batch)
                .sockOpts(SockOpts.empty().with(SockOpt.SO_RCVBUF, 4 << 20).with(SockOpt.SO_SNDBUF, 4 << 20)).build();
    }

    /** Parks the loop thread until the returned latch is counted down, so datagrams pile up into full batches. */
    private static CountDownLatch park(Loop loop) throws InterruptedException {
        CountDownLatch parked = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        loop.reactor.execute(() -> {
            parked.countDown();
            try {
                release.await(WAIT_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertTrue(parked.await(WAIT_SECONDS, TimeUnit.SECONDS));
        return release;
    }

    /** UDP over 127.0.0.1: sizes through an in-place echo with the plan; the client gets exactly {@link #expected}. */
    private static DatagramEndpoint udpEcho(Loop loop, List<Integer> sizes, int batch, IntUnaryOperator plan)
            throws Exception {
        try (DatagramSocket c = client(V4)) {
            c.setReceiveBufferSize(4 << 20);
            Mixer mixer = new Mixer(plan, sizes.size());
            DatagramEndpoint ep = DatagramEndpoint.open(loop.reactor, new InetSocketAddress(V4, 0), udpConfig(batch),
                    mixer);
            SocketAddress server = loop.call(ep::localAddress);
            CountDownLatch release = park(loop);
            for (int s = 0; s < sizes.size(); s++) {
                byte[] p = body(s, sizes.get(s));
                c.send(new DatagramPacket(p, p.length, server));
            }
            release.countDown();
            List<byte[]> want = expected(sizes, plan);
            for (int i = 0; i < want.size(); i++) {
                DatagramPacket in = new DatagramPacket(new byte[2048], 2048);
                c.receive(in);
                assertArrayEquals(want.get(i), Arrays.copyOf(in.getData(), in.getLength()), "datagram " + i);
                assertEquals(server, in.getSocketAddress());
            }
            mixer.awaitAll();
            assertEquals(List.of(), mixer.problems);
            if (batch > 1) {
                assertTrue(mixer.largestBatch > 1, "no batch of more than one datagram");
            }
            assertEquals(sizes.size(), loop.call(ep::inPlaceReplyCount), "replies not sent in place");
            return ep;
        }
    }

    private static List<Integer> manySizes(int n) {
        List<Integer> sizes = new ArrayList<>();
        for (int s = 0; s < n; s++) {
            sizes.add(s % 10 == 0 ? s % 3 : (s * 37) % 1473);
        }
        return sizes;
    }

    @Test
    void echoesOfManySizesArriveByteExactAndInOrder() throws Exception {
        try (Loop loop = Loop.start("reply-in-place")) {
            udpEcho(loop, manySizes(300), 8, s -> ONLY_REPLY).close();
        }
    }

    @Test
    void ordinarySendsBeforeAndAfterKeepTheirPlace() throws Exception {
        try (Loop loop = Loop.start("reply-mixed")) {
            udpEcho(loop, manySizes(200), 16, s -> s % 3).close();
        }
    }

    @Test
    void packetInfoRepliesInPlaceLeaveFromTheAddressAskedOn() throws Exception {
        try (Loop loop = Loop.start("reply-pktinfo"); DatagramSocket c = client(V4)) {
            Mixer mixer = new Mixer(s -> ONLY_REPLY, 3);
            DatagramEndpoint ep = DatagramEndpoint.open(loop.reactor, new InetSocketAddress("0.0.0.0", 0),
                    DatagramConfig.builder().packetInfo(true).batchSize(4).build(), mixer);
            int port = ((InetSocketAddress) loop.call(ep::localAddress)).getPort();
            InetSocketAddress asked = new InetSocketAddress("127.0.0.2", port);
            CountDownLatch release = park(loop);
            for (int s = 0; s < 3; s++) {
                c.send(new DatagramPacket(body(s, 100 + s), 100 + s, asked));
            }
            release.countDown();
            for (int s = 0; s < 3; s++) {
                DatagramPacket in = new DatagramPacket(new byte[256], 256);
                c.receive(in);
                assertArrayEquals(body(s, 100 + s), Arrays.copyOf(in.getData(), in.getLength()));
                assertEquals(asked, in.getSocketAddress(), "the reply did not leave from the address asked on");
            }
            assertEquals(3, loop.call(ep::inPlaceReplyCount));
            ep.close();
        }
    }

    // ------------------------------------------------------------------ a peer that does not read (Unix-domain)

    /**
     * A raw Unix-domain datagram socket connected to the endpoint: it sends when told and reads only when told, so
     * the endpoint's replies fill its receive queue (10 datagrams by default) and the endpoint's sendmmsg takes part
     * of a batch, then fails with EAGAIN.
     */
    static final class RawPeer implements AutoCloseable {
        final int fd;
        final UnixDomainSocketAddress path;
        final ByteBuffer buf = NativeMemory.allocate(1 << 16);
        final long addr = NativeMemory.address(buf);

        RawPeer(UnixDomainSocketAddress path, SocketAddress to) throws Exception {
            this.path = path;
            fd = LibC.socket(LibC.AF_UNIX, LibC.SOCK_DGRAM | LibC.SOCK_NONBLOCK | LibC.SOCK_CLOEXEC, 0);
            assertTrue(fd >= 0, "socket");
            try {
                Sockets.bind(fd, path);
                Sockets.connect(fd, to);
            } catch (Exception | Error e) {
                LibC.close(fd);
                throw e;
            }
        }

        /** Waits (poll, bounded) until {@code events} are ready. */
        private void await(short events) {
            buf.putInt(0, fd).putShort(4, events).putShort(6, (short) 0);
            int n = LibC.poll(addr, 1, (int) TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
            assertTrue(n == 1, "fd " + fd + " not ready for " + events + " within " + WAIT_SECONDS + " s");
        }

        void send(byte[] p) {
            while (true) {
                buf.put(8, p);
                long n = LibC.send(fd, addr + 8, p.length, LibC.MSG_DONTWAIT);
                if (n == p.length) {
                    return;
                }
                int err = LibC.errno();
                assertEquals(Errno.EAGAIN, err, "send: " + Errno.describe(err));
                await((short) 4); // POLLOUT: the endpoint has read some
            }
        }

        byte[] receive() {
            while (true) {
                long n = LibC.recv(fd, addr + 8, buf.capacity() - 8, LibC.MSG_DONTWAIT);
                if (n >= 0) {
                    byte[] b = new byte[(int) n];
                    buf.get(8, b);
                    return b;
                }
                int err = LibC.errno();
                assertEquals(Errno.EAGAIN, err, "recv: " + Errno.describe(err));
                await((short) 1); // POLLIN
            }
        }

        @Override
        public void close() {
            LibC.close(fd);
        }
    }

    /**
     * The peer sends everything before reading anything: the endpoint receives batch after batch into the same slots
     * while its replies wait for the peer, then one more ordinary send goes from a loop task; the peer gets every
     * datagram intact and in order. Returns how many in-place replies had to be copied out of the slots.
     */
    private static long blockedEcho(Path dir, List<Integer> sizes, int batch, IntUnaryOperator plan) throws Exception {
        UnixDomainSocketAddress serverPath = UnixDomainSocketAddress.of(dir.resolve("echo.sock"));
        UnixDomainSocketAddress peerPath = UnixDomainSocketAddress.of(dir.resolve("peer.sock"));
        try (Loop loop = Loop.start("reply-blocked")) {
            Mixer mixer = new Mixer(plan, sizes.size());
            DatagramEndpoint ep = DatagramEndpoint.open(loop.reactor, serverPath,
                    DatagramConfig.builder().batchSize(batch).sendQueue(4 << 20, 4096).build(), mixer);
            try (RawPeer peer = new RawPeer(peerPath, serverPath)) {
                for (int s = 0; s < sizes.size(); s++) {
                    peer.send(body(s, sizes.get(s)));
                }
                mixer.awaitAll();
                byte[] last = "after the batches".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
                assertTrue(loop.call(() -> ep.send(ByteBuffer.wrap(last), peerPath)));
                List<byte[]> want = expected(sizes, plan);
                want.add(last);
                for (int i = 0; i < want.size(); i++) {
                    byte[] got = peer.receive();
                    assertArrayEquals(want.get(i), got, "datagram " + i + " of " + want.size() + " ("
                            + got.length + " B, wanted " + want.get(i).length + " B)");
                }
                assertEquals(List.of(), mixer.problems);
                assertEquals(0, loop.call(ep::droppedCount));
                return loop.call(ep::inPlaceCopyCount);
            } finally {
                ep.close();
                loop.barrier();
                Files.deleteIfExists(peerPath.getPath());
            }
        }
    }

    @Test
    void repliesTheKernelDidNotTakeAreCopiedBeforeTheSlotsAreReused(@TempDir Path dir) throws Exception {
        List<Integer> sizes = new ArrayList<>();
        for (int s = 0; s < 120; s++) {
            sizes.add(200 + (s * 131) % 1800);
        }
        long copied = blockedEcho(dir, sizes, 16, s -> ONLY_REPLY);
        assertTrue(copied > 0, "no reply in place was left over: the test did not block the endpoint");
    }

    @Test
    void mixedSendsKeepTheirOrderWhenTheEndpointBlocks(@TempDir Path dir) throws Exception {
        long copied = blockedEcho(dir, manySizes(150), 8, s -> (s * 7 + s / 5) % 3);
        assertTrue(copied > 0, "no reply in place was left over: the test did not block the endpoint");
    }

    @Test
    void randomSizesAndBatchShapesThroughABlockedPeer(@TempDir Path dir) {
        qt(25, 10).forAll(lists().of(integers().between(0, 2048)).ofSizeBetween(1, 60), integers().between(1, 16),
                integers().between(0, 1 << 20)).checkAssert((sizes, batch, planSeed) -> run(() -> {
                    Path sub = Files.createTempDirectory(dir, "p");
                    blockedEcho(sub, sizes, batch, s -> Math.floorMod(planSeed * 31 + s * (planSeed | 1), 3));
                }));
    }

    // ------------------------------------------------------------------ GRO, other threads, misuse

    /** A GSO sender's segments come back from a GRO endpoint that keeps them coalesced and replies in place. */
    private static void groEcho(DatagramConfig.Builder receiver, boolean refuseGsoAtSendTime) throws Exception {
        int seg = DatagramGsoGroTest.SEG;
        try (Loop loop = Loop.start("reply-gro")) {
            Mixer mixer = new Mixer(s -> ONLY_REPLY, 1);
            DatagramEndpoint ep = DatagramEndpoint.open(loop.reactor, new InetSocketAddress(V4, 0),
                    receiver.gro(true, false).build(), mixer);
            ep.simulateGsoRefusal = refuseGsoAtSendTime;
            Sink sink = new Sink();
            DatagramEndpoint sender = DatagramEndpoint.open(loop.reactor, new InetSocketAddress(V4, 0), udpConfig(64),
                    sink);
            byte[] all = DatagramGsoGroTest.pattern(40 * seg + 300);
            SocketAddress to = loop.call(ep::localAddress);
            loop.call(() -> sender.sendSegments(ByteBuffer.wrap(all), seg, to));
            for (int i = 0; i <= 40; i++) {
                int len = i < 40 ? seg : 300;
                assertArrayEquals(Arrays.copyOfRange(all, i * seg, i * seg + len), sink.take(), "datagram " + i);
            }
            assertEquals(List.of(), mixer.problems);
            assumeTrue(mixer.largestSegment > 0, "nothing coalesced (kernel without UDP_GRO?)");
            assertTrue(loop.call(ep::inPlaceReplyCount) > 0);
            if (refuseGsoAtSendTime) {
                assertEquals(1, loop.call(ep::gsoFallbackCount));
            }
            sender.close();
            ep.close();
        }
    }

    @Test
    void aCoalescedGroBufferGoesBackAsItsDatagramsWithGso() throws Exception {
        groEcho(DatagramConfig.builder(), false);
    }

    @Test
    void aCoalescedGroBufferGoesBackAsItsDatagramsWithoutGso() throws Exception {
        groEcho(DatagramConfig.builder().gso(false), false);
    }

    @Test
    void aCoalescedGroBufferGoesBackWhenGsoIsRefusedAtSendTime() throws Exception {
        groEcho(DatagramConfig.builder(), true);
    }

    @Test
    void fromAnotherThreadTheReplyIsCopied() throws Exception {
        try (Loop loop = Loop.start("reply-other-thread"); DatagramSocket c = client(V4)) {
            AtomicInteger problems = new AtomicInteger();
            DatagramEndpoint ep = DatagramEndpoint.open(loop.reactor, new InetSocketAddress(V4, 0), (e, d) -> {
                // the handler waits while another thread replies: its view is valid until the handler returns
                Thread other = new Thread(() -> {
                    if (!e.reply(d) || !e.reply(d, ByteBuffer.wrap(marker(d.length())))) {
                        problems.incrementAndGet();
                    }
                });
                other.start();
                other.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
                d.data().put(d.data().position(), (byte) 99); // the copy was made: this must not show
            });
            SocketAddress server = loop.call(ep::localAddress);
            c.send(new DatagramPacket(body(5, 333), 333, server));
            DatagramPacket in = new DatagramPacket(new byte[512], 512);
            c.receive(in);
            assertArrayEquals(body(5, 333), Arrays.copyOf(in.getData(), in.getLength()));
            c.receive(in);
            assertArrayEquals(marker(333), Arrays.copyOf(in.getData(), in.getLength()));
            assertEquals(0, problems.get());
            assertEquals(0, loop.call(ep::inPlaceReplyCount));
            ep.close();
        }
    }

    @Test
    void aDatagramKeptPastItsHandlerCallIsRefused() throws Exception {
        try (Loop loop = Loop.start("reply-stale"); DatagramSocket c = client(V4)) {
            List<Datagram> kept = new CopyOnWriteArrayList<>();
            CountDownLatch got = new CountDownLatch(1);
            DatagramEndpoint ep = DatagramEndpoint.open(loop.reactor, new InetSocketAddress(V4, 0), (e, d) -> {
                kept.add(d);
                got.countDown();
            });
            c.send(new DatagramPacket(new byte[] {1}, 1, loop.call(ep::localAddress)));
            assertTrue(got.await(WAIT_SECONDS, TimeUnit.SECONDS));
            ExecutionException e = assertThrows(ExecutionException.class, () -> loop.call(() -> ep.reply(kept.get(0))));
            assertInstanceOf(IllegalStateException.class, e.getCause());
            assertTrue(e.getCause().getMessage().contains("valid only during"), e.getCause().getMessage());
            ep.close();
        }
    }
}
