package org.epoll4j.jmh;

import org.epoll4j.Reactor;
import org.epoll4j.net.Datagram;
import org.epoll4j.net.DatagramConfig;
import org.epoll4j.net.DatagramEndpoint;
import org.epoll4j.net.DatagramHandler;
import org.epoll4j.net.SockOpt;
import org.epoll4j.net.SockOpts;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * Send throughput of 1,200-byte datagrams from one sender to one receiver on loopback, with GSO ({@code UDP_SEGMENT}:
 * 54 datagrams cut by the kernel from one 64,800-byte buffer, one message per sendmmsg entry) and without it (the
 * same 54 datagrams as 54 entries of one sendmmsg). One operation queues and flushes 54 datagrams (64,800 bytes)
 * on the benchmark thread, polling the sender's reactor (nothing else runs there); the receiver is a
 * {@link DatagramEndpoint} with GRO on its own reactor thread, draining, and {@code receivedBytes} counts what
 * arrived (the kernel drops what the receiver cannot take; the ratio shows it). Bytes/s = ops/s × 64,800.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class DatagramGsoBenchmark {
    static final int SEG = 1200;
    static final int SEGMENTS = 54;

    @Param({"true", "false"})
    public boolean gso;

    private Reactor senderReactor;
    private Reactor receiverReactor;
    private DatagramEndpoint sender;
    private DatagramEndpoint receiver;
    private SocketAddress to;
    private ByteBuffer payload;
    private final LongAdder received = new LongAdder();

    /** Bytes the receiver got per iteration (JMH reports it as a rate next to the ops). */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Received {
        public long receivedBytes;
    }

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        receiverReactor = Reactor.open();
        receiver = DatagramEndpoint.open(receiverReactor, new InetSocketAddress("127.0.0.1", 0),
                DatagramConfig.builder().gro(true, false).batchSize(64)
                        .sockOpts(SockOpts.empty().with(SockOpt.SO_RCVBUF, 8 << 20)).build(),
                new DatagramHandler() {
                    @Override
                    public void onDatagram(DatagramEndpoint endpoint, Datagram datagram) {
                        received.add(datagram.length());
                    }
                });
        to = receiver.localAddress();
        receiverReactor.start();
        senderReactor = Reactor.open();
        sender = DatagramEndpoint.open(senderReactor, new InetSocketAddress("127.0.0.1", 0),
                DatagramConfig.builder().gso(gso).batchSize(64).sendQueue(4 << 20, 4096)
                        .sockOpts(SockOpts.empty().with(SockOpt.SO_SNDBUF, 4 << 20)).build(),
                (e, d) -> { });
        if (gso && !sender.isGsoEnabled()) {
            throw new IllegalStateException("this kernel has no UDP_SEGMENT");
        }
        payload = ByteBuffer.allocateDirect(SEG * SEGMENTS);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        sender.close();
        receiver.close();
        senderReactor.close();
        receiverReactor.close();
    }

    /** Queue 54 × 1,200 B and flush them. */
    @Benchmark
    public boolean send(Received r) throws Exception {
        long before = received.sum();
        payload.clear();
        boolean queued = sender.sendSegments(payload, SEG, to);
        sender.flush();
        while (sender.queuedDatagrams() > 0) {
            senderReactor.poll(Duration.ofMillis(1)); // EPOLLOUT: the socket's send buffer has room again
        }
        r.receivedBytes += received.sum() - before;
        return queued;
    }
}
