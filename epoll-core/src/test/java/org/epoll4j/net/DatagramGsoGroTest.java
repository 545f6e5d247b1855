package org.epoll4j.net;

import org.epoll4j.testutil.FdLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.epoll4j.net.DatagramEndpointTest.Sink;
import static org.epoll4j.net.DatagramEndpointTest.client;
import static org.epoll4j.net.NetTestKit.Loop;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * GSO (UDP_SEGMENT) and GRO (UDP_GRO), each used and each forced onto its fallback: the receiver sees the same
 * datagrams either way.
 */
@ExtendWith(FdLeakCheck.class)
@Timeout(60)
class DatagramGsoGroTest {
    static final InetAddress LOCAL = InetAddress.getLoopbackAddress();
    static final int SEG = 1200;
    static final int SEGMENTS = 150; // more than one GSO call (64 segments each) holds

    static byte[] pattern(int len) {
        byte[] b = new byte[len];
        for (int i = 0; i < len; i++) {
            b[i] = (byte) (i / SEG * 7 + i);
        }
        return b;
    }

    /** Sends SEGMENTS×SEG bytes (plus a short tail) with sendSegments and checks a plain socket gets each datagram. */
    private static DatagramEndpoint sendSegmentsTo(Loop loop, DatagramConfig config, boolean refuseAtSendTime)
            throws Exception {
        try (DatagramSocket receiver = client(LOCAL)) {
            receiver.setReceiveBufferSize(4 << 20);
            DatagramEndpoint sender = DatagramEndpoint.open(loop.reactor, new InetSocketAddress(LOCAL, 0), config,
                    new Sink());
            sender.simulateGsoRefusal = refuseAtSendTime;
            byte[] all = pattern(SEGMENTS * SEG + 100);
            loop.call(() -> sender.sendSegments(ByteBuffer.wrap(all), SEG, receiver.getLocalSocketAddress()));
            for (int i = 0; i <= SEGMENTS; i++) {
                DatagramPacket p = new DatagramPacket(new byte[2048], 2048);
                receiver.receive(p);
                int len = i < SEGMENTS ? SEG : 100;
                assertEquals(len, p.getLength(), "datagram " + i);
                assertArrayEquals(Arrays.copyOfRange(all, i * SEG, i * SEG + len),
                        Arrays.copyOf(p.getData(), p.getLength()), "datagram " + i);
            }
            assertEquals(SEGMENTS + 1, loop.call(sender::sentCount));
            return sender;
        }
    }

    @Test
    void gsoSendsEqualSegments() throws Exception {
        try (Loop loop = Loop.start("gso")) {
            DatagramEndpoint sender = sendSegmentsTo(loop, DatagramConfig.defaults(), false);
            assumeTrue(sender.isGsoEnabled(), "kernel without UDP_SEGMENT");
            assertEquals(0, loop.call(sender::gsoFallbackCount));
            sender.close();
        }
    }

    @Test
    void gsoOffSendsTheSameDatagrams() throws Exception {
        try (Loop loop = Loop.start("gso-off")) {
            DatagramEndpoint sender = sendSegmentsTo(loop, DatagramConfig.builder().gso(false).build(), false);
            assertFalse(sender.isGsoEnabled());
            sender.close();
        }
    }

    @Test
    void gsoRefusedAtSendTimeFallsBackWithoutLoss() throws Exception {
        try (Loop loop = Loop.start("gso-refused")) {
            DatagramEndpoint sender = sendSegmentsTo(loop, DatagramConfig.defaults(), true);
            assertFalse(sender.isGsoEnabled());
            assertEquals(1, loop.call(sender::gsoFallbackCount));
            sender.close();
        }
    }

    /** GSO sender → endpoint with the given GRO setting; returns the payloads and segment sizes it saw. */
    private static List<int[]> receiveWithGro(DatagramConfig receiverConfig, boolean simulateRefusal,
                                              List<byte[]> payloads) throws Exception {
        try (Loop loop = Loop.start("gro")) {
            Sink sink = new Sink();
            DatagramEndpoint.simulateGroRefusal = simulateRefusal;
            DatagramEndpoint receiver;
            try {
                receiver = DatagramEndpoint.open(loop.reactor, new InetSocketAddress(LOCAL, 0), receiverConfig, sink);
            } finally {
                DatagramEndpoint.simulateGroRefusal = false;
            }
            DatagramEndpoint sender = DatagramEndpoint.open(loop.reactor, new InetSocketAddress(LOCAL, 0), new Sink());
            byte[] all = pattern(40 * SEG);
            var to = loop.call(receiver::localAddress);
            loop.call(() -> sender.sendSegments(ByteBuffer.wrap(all), SEG, to));
            List<int[]> seen = new ArrayList<>();
            int bytes = 0;
            while (bytes < all.length) {
                byte[] p = sink.take();
                payloads.add(p);
                int seg = sink.segmentSizes.take();
                seen.add(new int[] {p.length, seg});
                assertArrayEquals(Arrays.copyOfRange(all, bytes, bytes + p.length), p);
                bytes += p.length;
            }
            assertEquals(all.length, bytes);
            assertEquals(!simulateRefusal, loop.call(receiver::isGroEnabled) || !receiverConfig.gro);
            receiver.close();
            sender.close();
            return seen;
        }
    }

    @Test
    void groCoalescesAndHandsTheSegmentSize() throws Exception {
        List<byte[]> payloads = new ArrayList<>();
        List<int[]> seen = receiveWithGro(DatagramConfig.builder().gro(true, false).build(), false, payloads);
        assumeTrue(seen.stream().anyMatch(s -> s[1] > 0), "no coalesced datagram (kernel without UDP_GRO?)");
        assertTrue(seen.size() < 40, "nothing coalesced: " + seen.size());
        assertTrue(seen.stream().allMatch(s -> s[1] == 0 || s[1] == SEG));
    }

    @Test
    void groSplitDeliversEachDatagram() throws Exception {
        List<byte[]> payloads = new ArrayList<>();
        List<int[]> seen = receiveWithGro(DatagramConfig.builder().gro(true, true).build(), false, payloads);
        assertEquals(40, seen.size());
        assertTrue(seen.stream().allMatch(s -> s[0] == SEG && s[1] == 0));
    }

    @Test
    void groRefusedReceivesDatagramByDatagram() throws Exception {
        List<byte[]> payloads = new ArrayList<>();
        List<int[]> seen = receiveWithGro(DatagramConfig.builder().gro(true, false).build(), true, payloads);
        assertEquals(40, seen.size());
        assertTrue(seen.stream().allMatch(s -> s[0] == SEG && s[1] == 0));
    }
}
