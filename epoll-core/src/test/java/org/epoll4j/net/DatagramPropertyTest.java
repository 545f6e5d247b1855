package org.epoll4j.net;

import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.ThreadLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.epoll4j.net.NetTestKit.Loop;
import static org.epoll4j.net.NetTestKit.WAIT_SECONDS;
import static org.epoll4j.testutil.Pbt.qt;
import static org.epoll4j.testutil.Pbt.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

/**
 * Random datagram sizes from several senders through an echo endpoint of random batch size, on loopback: every
 * datagram comes back intact, and each sender's arrive in the order it sent them.
 */
@ExtendWith(FdLeakCheck.class)
@ExtendWith(ThreadLeakCheck.class)
class DatagramPropertyTest {
    @Test
    @Timeout(300)
    void datagramsArriveIntactAndInPerSenderOrder() {
        qt(40, 50).forAll(lists().of(lists().of(integers().between(0, 1500)).ofSizeBetween(1, 120)).ofSizeBetween(1, 4),
                integers().between(1, 64)).checkAssert((senders, batch) -> run(() -> echo(senders, batch)));
    }

    private static byte[] body(int sender, int seq, int size) {
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) {
            b[i] = (byte) (sender * 131 + seq * 7 + i);
        }
        return b;
    }

    private static void echo(List<List<Integer>> senders, int batch) throws Exception {
        InetAddress lo = InetAddress.getByName("127.0.0.1");
        DatagramConfig big = DatagramConfig.builder().batchSize(batch)
                .sockOpts(SockOpts.empty().with(SockOpt.SO_RCVBUF, 4 << 20).with(SockOpt.SO_SNDBUF, 4 << 20)).build();
        try (Loop loop = Loop.start("dgram-property")) {
            DatagramEndpoint server = DatagramEndpoint.open(loop.reactor, new InetSocketAddress(lo, 0), big,
                    (ep, d) -> ep.reply(d, d.data()));
            SocketAddress to = loop.call(server::localAddress);
            List<DatagramEndpoint> clients = new ArrayList<>();
            Map<Integer, BlockingQueue<byte[]>> echoed = new HashMap<>();
            try {
                for (int s = 0; s < senders.size(); s++) {
                    BlockingQueue<byte[]> q = new LinkedBlockingQueue<>();
                    echoed.put(s, q);
                    clients.add(DatagramEndpoint.open(loop.reactor, new InetSocketAddress(lo, 0), big, (ep, d) -> {
                        byte[] b = new byte[d.length()];
                        d.data().get(b);
                        q.add(b);
                    }));
                }
                // all sends from the loop thread, interleaved across senders, as fast as the queue takes them
                loop.call(() -> {
                    int longest = senders.stream().mapToInt(List::size).max().orElse(0);
                    for (int i = 0; i < longest; i++) {
                        for (int s = 0; s < senders.size(); s++) {
                            List<Integer> sizes = senders.get(s);
                            if (i < sizes.size()) {
                                byte[] b = body(s, i, sizes.get(i));
                                if (!clients.get(s).send(ByteBuffer.wrap(b), to)) {
                                    throw new AssertionError("send queue full");
                                }
                            }
                        }
                    }
                    return null;
                });
                for (int s = 0; s < senders.size(); s++) {
                    List<Integer> sizes = senders.get(s);
                    for (int i = 0; i < sizes.size(); i++) {
                        byte[] got = echoed.get(s).poll(WAIT_SECONDS, TimeUnit.SECONDS);
                        assertNotNull(got, "sender " + s + " datagram " + i + " never came back");
                        assertArrayEquals(body(s, i, sizes.get(i)), got,
                                "sender " + s + " datagram " + i + " (" + sizes.get(i) + " B) wrong or out of order: "
                                        + Arrays.toString(Arrays.copyOf(got, Math.min(8, got.length))));
                    }
                }
                assertEquals(senders.stream().mapToInt(List::size).sum(), (long) loop.call(server::receivedCount));
            } finally {
                clients.forEach(DatagramEndpoint::close);
                server.close();
            }
        }
    }
}
