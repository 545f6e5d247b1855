package org.epoll4j.jmh;

import org.epoll4j.jmh.peers.EchoPeer;
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
import java.util.concurrent.TimeUnit;

/**
 * Ping-pong on one loopback connection: the benchmark thread sends 64 B over a blocking JDK socket and reads the
 * 64 B echo back from the transport's echo server, which runs on its own event-loop thread in this JVM. The client
 * is the same for every transport, so the differences are the servers' (this library, Netty native epoll, JDK NIO).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class TransportPingPongBenchmark {
    static final int SIZE = 64;

    @Param({"EPOLL4J", "NETTY", "NIO"})
    public EchoPeer.Transport transport;

    private EchoPeer server;
    private SocketChannel client;
    private final ByteBuffer out = ByteBuffer.allocateDirect(SIZE);
    private final ByteBuffer in = ByteBuffer.allocateDirect(SIZE);

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        server = transport.start(0);
        client = connect(server.port());
        for (int i = 0; i < SIZE; i++) {
            out.put(i, (byte) i);
        }
        roundTrip();
        for (int i = 0; i < SIZE; i++) {
            if (in.get(i) != (byte) i) {
                throw new IllegalStateException(transport + " echoed a different byte at " + i);
            }
        }
    }

    static SocketChannel connect(int port) throws IOException {
        SocketChannel ch = SocketChannel.open(new InetSocketAddress("127.0.0.1", port));
        ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
        return ch;
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        client.close();
        server.close();
    }

    /** Send 64 B, read the 64 B echo. */
    @Benchmark
    public int roundTrip() throws IOException {
        out.clear();
        while (out.hasRemaining()) {
            client.write(out);
        }
        in.clear();
        while (in.hasRemaining()) {
            if (client.read(in) < 0) {
                throw new IllegalStateException(transport + " closed the connection");
            }
        }
        return in.get(0);
    }
}
