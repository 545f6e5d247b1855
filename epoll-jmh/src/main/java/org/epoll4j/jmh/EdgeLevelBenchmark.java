package org.epoll4j.jmh;

import org.epoll4j.Reactor;
import org.epoll4j.ReactorStats;
import org.epoll4j.TriggerMode;
import org.epoll4j.net.Connection;
import org.epoll4j.net.ConnectionConfig;
import org.epoll4j.net.ConnectionHandler;
import org.epoll4j.net.TcpServer;
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

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * EDGE against LEVEL on the same streaming workload through the library: a {@link TcpServer} on a reactor running
 * on its own thread, K loopback connections, a handler that consumes what it reads. One op is one round: the
 * benchmark thread writes a burst of {@code burst} 64-byte messages (one send each) into every connection, then
 * waits until the server has read all of them. Data arrives while the loop runs, as in a server.
 *
 * <p>Aux counters (rates per second, over the same time as the score): {@code messages} (the throughput in
 * messages/s), {@code epollWaits} (epoll_wait calls, from {@link ReactorStats#epollWaits()}) and {@code epollCtls}
 * (epoll_ctl calls, from {@link ReactorStats#epollCtls()}); calls per message = counter / messages (the chart
 * generator divides them). The server only reads, so neither mode needs epoll_ctl after registering here.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class EdgeLevelBenchmark {
    private static final int SIZE = 64;

    @Param({"LEVEL", "EDGE"})
    public TriggerMode trigger;

    @Param({"1", "16", "128"})
    public int k;

    @Param({"8"})
    public int burst;

    private Reactor reactor;
    private TcpServer server;
    private SocketChannel[] clients;
    private final ByteBuffer msg = ByteBuffer.allocateDirect(SIZE);
    private final Sink sink = new Sink();
    private long expected;

    /** Counts the bytes the server read; written by the loop thread only. */
    static final class Sink implements ConnectionHandler {
        volatile long bytes;

        @Override
        public void onData(Connection connection, ByteBuffer data) {
            bytes += data.remaining(); // single writer: the loop thread
            data.position(data.limit());
        }
    }

    /** Per-iteration counts, reported by JMH as rates next to the score. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Counters {
        /** Messages the server consumed. */
        public long messages;
        /** epoll_wait calls the reactor made meanwhile. */
        public long epollWaits;
        public long epollCtls;
        ReactorStats base;

        /** Zeroes the counts and remembers the reactor's counters at the start of the iteration. */
        @Setup(Level.Iteration)
        public void startIteration(EdgeLevelBenchmark b) {
            messages = 0;
            epollWaits = 0;
            epollCtls = 0;
            base = b.reactor.stats();
        }
    }

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        reactor = Reactor.open();
        server = TcpServer.builder(reactor)
                .config(ConnectionConfig.defaults().withTrigger(trigger))
                .handler(sink)
                .start();
        reactor.start();
        InetSocketAddress remote = new InetSocketAddress("127.0.0.1", server.port());
        clients = new SocketChannel[k];
        for (int i = 0; i < k; i++) {
            clients[i] = SocketChannel.open(remote);
            clients[i].setOption(StandardSocketOptions.TCP_NODELAY, true);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (server.activeConnections() < k) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("only " + server.activeConnections() + " of " + k + " accepted");
            }
            Thread.onSpinWait();
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        for (SocketChannel ch : clients) {
            if (ch != null) {
                ch.close();
            }
        }
        reactor.execute(server::close);
        reactor.close();
        if (!reactor.awaitTermination(Duration.ofSeconds(10))) {
            throw new IllegalStateException("reactor did not stop");
        }
    }

    /** One burst into every connection, then wait until the server consumed it all. */
    @Benchmark
    public long round(Counters c) throws IOException {
        for (SocketChannel ch : clients) {
            for (int i = 0; i < burst; i++) {
                msg.clear();
                while (msg.hasRemaining()) {
                    ch.write(msg);
                }
            }
        }
        expected += (long) k * burst * SIZE;
        long deadline = 0;
        while (sink.bytes < expected) {
            Thread.onSpinWait();
            long now = System.nanoTime();
            if (deadline == 0) {
                deadline = now + TimeUnit.SECONDS.toNanos(30);
            } else if (now > deadline) {
                throw new IllegalStateException("server read " + sink.bytes + " of " + expected + " bytes in 30 s");
            }
        }
        c.messages += (long) k * burst;
        ReactorStats s = reactor.stats();
        c.epollWaits = s.epollWaits() - c.base.epollWaits();
        c.epollCtls = s.epollCtls() - c.base.epollCtls();
        return expected;
    }
}
